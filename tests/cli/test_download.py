from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.downloader.hls_server import FakeServer, make_recording
from tests.downloader.test_sources import TWEET_ID, fake_tweet, fake_x, tweet_with


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airspace", "download", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def test_download_prints_the_file_and_exits_0(server: FakeServer, tmp_path: Path) -> None:
    url = server.serve_recording(make_recording(6.0, "ts"))
    result = run(url, "-o", "%(title)s.%(ext)s", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "index.mp3 (0:06.016)"
    assert result.stderr == ""  # no progress bar when not on a terminal
    assert (tmp_path / "index.mp3").stat().st_size > 10_000


def test_live_space_has_its_own_exit_code(server: FakeServer, tmp_path: Path) -> None:
    recording = make_recording(4.0, "ts")
    server.serve_recording(recording)
    server.static("/hls/live.m3u8", recording.playlist(ended=False))
    result = run(f"{server.url}/hls/live.m3u8", "-q", cwd=tmp_path)
    assert result.returncode == 5
    assert result.stderr.strip() == (
        "Error: This Space is live; use --live to record it from now until it ends"
    )


def test_missing_segment_is_a_warning_and_exit_20(server: FakeServer, tmp_path: Path) -> None:
    url = server.serve_recording(make_recording(6.0, "ts"))
    del server.routes["/hls/seg1.ts"]
    result = run(url, "-q", "-o", "out.%(ext)s", cwd=tmp_path)
    assert result.returncode == 20
    assert result.stderr.startswith(
        "Warning: segment 1 (at 0:00:02.005) could not be fetched (HTTP 404"
    )


def test_bad_template_is_a_usage_error(server: FakeServer, tmp_path: Path) -> None:
    url = server.serve_recording(make_recording(2.0, "ts"))
    result = run(url, "-o", "%(nope)s", cwd=tmp_path)
    assert result.returncode == 2
    assert "fields" in result.stderr


def test_an_mp3_encoder_setting_that_does_not_load_is_one_line_and_exit_2(
    server: FakeServer, tmp_path: Path
) -> None:
    url = server.serve_recording(make_recording(2.0, "ts"))
    missing = tmp_path / "no-such-libmp3lame.so"
    result = run(url, "-q", cwd=tmp_path, env={"AIRSPACE_LAME_LIBRARY": str(missing)})
    assert result.returncode == 2
    assert result.stderr.startswith(f"Error: AIRSPACE_LAME_LIBRARY: cannot load {missing}")
    assert result.stderr.count("\n") == 1
    assert not list(tmp_path.glob("*.mp3"))


def test_not_a_link(tmp_path: Path) -> None:
    result = run("not a link", cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.strip() == "Error: not an http(s) link: 'not a link'"


def test_progress_bar_on_a_terminal_is_drawn_without_a_thread(
    server: FakeServer, tmp_path: Path
) -> None:
    """The bar is redrawn as the download reports, so the command keeps to one thread and
    its children are forked from it."""
    import os
    import pty
    import threading

    from airspace.cli.download import ProgressBar
    from airspace.downloader.progress import Progress

    threads = threading.active_count()
    bar = ProgressBar()
    bar(Progress(stage="downloading", segments_total=2))
    assert threading.active_count() == threads
    bar.stop()

    url = server.serve_recording(make_recording(6.0, "ts"))
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "airspace", "download", url, "-f", "m4a", "-o", "out.%(ext)s"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        cwd=tmp_path,
    )
    os.close(terminal)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the command exited and closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(controller)
    assert process.wait(timeout=120) == 0
    text = shown.decode(errors="replace")
    assert "4/4 segments" in text
    assert "done" in text
    assert "out.m4a (0:06.016)" in text


def test_m4a_leaves_quietly_with_everything_written(server: FakeServer, tmp_path: Path) -> None:
    """An M4A download forks its children itself and skips the interpreter's teardown:
    its output and its file are all there all the same."""
    url = server.serve_recording(make_recording(6.0, "ts"))
    result = run(url, "-q", "-f", "m4a", "-o", "out.%(ext)s", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "out.m4a (0:06.016)\n", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.m4a"]


def test_a_tweet_without_a_space_is_one_line_and_exit_14(
    server: FakeServer, tmp_path: Path
) -> None:
    fake_x(server)
    fake_tweet(server, tweet_with(None, ["https://example.com/article"]))
    result = run(
        f"https://x.com/grace/status/{TWEET_ID}?s=20",
        "-q",
        cwd=tmp_path,
        env={"AIRSPACE_X_API_URL": server.url},
    )
    assert result.returncode == 14
    assert result.stderr.strip() == f"Error: tweet {TWEET_ID} has no Space in it"
