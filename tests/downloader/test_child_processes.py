"""Where children start from: a fork of a process with no other thread (the command),
else the fork server. Each case runs in a fresh interpreter, whose threads are known."""

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


def test_a_process_forks_itself_only_while_it_has_no_other_thread() -> None:
    printed = run_python(
        """
        import threading
        from airspace.downloader.child_processes import child_context

        print(child_context().get_start_method())
        stop = threading.Event()
        threading.Thread(target=stop.wait).start()
        print(child_context().get_start_method())
        stop.set()
        """
    )
    assert printed.split() == ["fork", "forkserver"]


def test_a_download_from_a_process_with_no_thread_forks_its_children(
    server: FakeServer, tmp_path: Path
) -> None:
    """Two fetching processes and the M4A converter, forked from a process that was
    running an event loop: every frame arrives, and no fork server was started."""
    recording = make_recording(21.0, "ts", seed=5)
    url = server.serve_recording(recording)
    printed = run_python(
        f"""
        from multiprocessing import forkserver
        from airspace.downloader import download

        result = download({url!r}, "out.%(ext)s", format="m4a", fetch_processes=2)
        print(result.complete, forkserver._forkserver._forkserver_pid)
        """,
        cwd=tmp_path,
    )
    assert printed == "True None"
    with av.open(str(tmp_path / "out.m4a")) as container:
        payloads = [bytes(p) for p in container.demux(audio=0) if p.size]
    assert payloads == [frame[7:] for frame in recording.frames]
