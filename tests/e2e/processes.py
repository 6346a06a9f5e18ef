"""``airspace serve`` as a separate process, the way a user runs it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def serve(data_dir: Path, port: int | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Migrate the database in ``data_dir``, start a server on it; returns the process
    and its base URL once it answers."""
    env = {**os.environ, "AIRSPACE_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-m", "airspace", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "airspace", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/api/v1/health", timeout=1)
            return process, base
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the server did not start: {process.communicate()[0].decode()}")
