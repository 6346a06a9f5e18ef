"""SIGTERM stops a server consuming jobs (`airspace serve` on the embedded queue) within
ten seconds, however long its jobs run: a download from a crawling source is left
running in the job table for the sweeper to run again, instead of holding the server's
shutdown for as long as the source keeps a byte coming."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from airspace.config import Settings
from airspace.jobs import status
from airspace.jobs.models import JobStatus
from airspace.jobs.queue import SHUTDOWN_SECONDS
from airspace.wiring import build_services
from tests.downloader.hls_server import FakeServer, Reply
from tests.e2e.processes import free_port


@pytest.mark.slow
def test_sigterm_stops_a_server_in_the_middle_of_a_long_job(
    settings: Settings, server: FakeServer, tmp_path: Path
) -> None:
    data_dir = tmp_path / "node"
    shared = replace(settings, queue_url=f"sqlite:///{data_dir / 'jobs.db'}")
    services = build_services(shared)
    server.routes["/crawl.mp3"] = lambda _r: Reply(
        200, b"\xff\xfb" * 200_000, "audio/mpeg", bytes_per_second=4_000
    )
    env = {
        **os.environ,
        "AIRSPACE_DATA_DIR": str(data_dir),
        "AIRSPACE_DATABASE_URL": shared.database_url,
        "AIRSPACE_DOWNLOAD_ALLOW_HOSTS": "127.0.0.1",
        "AIRSPACE_DOWNLOAD_MIN_KBPS": "1",
    }
    log = (tmp_path / "serve.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "airspace", "serve", "--port", str(free_port())],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        run_id = services.jobs.enqueue("downloads.fetch", url=f"{server.url}/crawl.mp3", fmt="mp3")
        deadline = time.monotonic() + 30
        while status.get_run(services, run_id).status is not JobStatus.RUNNING:
            assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()
            time.sleep(0.1)
        time.sleep(1)  # well into its transfer, which would take minutes
        worker.send_signal(signal.SIGTERM)
        # It waits SHUTDOWN_SECONDS for the job, then leaves it: never the minutes the
        # transfer would take.
        worker.wait(timeout=SHUTDOWN_SECONDS + 4)
    finally:
        if worker.poll() is None:
            worker.kill()
        services.close()
    # Left as running: the sweeper (or the next worker to start) runs it again.
    assert status.get_run(services, run_id).status is JobStatus.RUNNING
