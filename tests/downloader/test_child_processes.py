"""Children start from the standard library's fork server, whatever the parent runs:
a download from a process with threads and a running event loop gets every frame."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import av

from tests.downloader.hls_server import FakeServer, make_recording


def run_python(code: str, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_children_come_from_the_fork_server_whatever_the_parent_runs(
    server: FakeServer, tmp_path: Path
) -> None:
    """Two fetching processes and the M4A converter, started while the parent runs an
    event loop and another thread: every frame arrives."""
    recording = make_recording(21.0, "ts", seed=5)
    url = server.serve_recording(recording)
    printed = run_python(
        f"""
        import threading
        from multiprocessing import forkserver
        from airspace.downloader import download
        from airspace.downloader.child_processes import child_context

        stop = threading.Event()
        threading.Thread(target=stop.wait).start()
        result = download({url!r}, "out.%(ext)s", format="m4a", fetch_processes=2)
        stop.set()
        print(result.complete, child_context().get_start_method())
        print(forkserver._forkserver._forkserver_pid is not None)
        """,
        cwd=tmp_path,
    )
    assert printed.split() == ["True", "forkserver", "True"]
    with av.open(str(tmp_path / "out.m4a")) as container:
        payloads = [bytes(p) for p in container.demux(audio=0) if p.size]
    assert payloads == [frame[7:] for frame in recording.frames]
