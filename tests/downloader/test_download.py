"""Downloads from real HTTP servers on loopback, checked by the audio they produce."""

from __future__ import annotations

from pathlib import Path

import mutagen
import mutagen.mp3
import mutagen.mp4
import numpy as np
import pytest

from airspace.downloader import Progress, download
from airspace.downloader.errors import SpaceIsLive
from airspace.media.constants import AAC_FRAME_SAMPLES
from tests.audio import SAMPLE_RATE, best_lag, decode
from tests.downloader.hls_server import FakeServer, Recording, Reply, make_recording

FAST = {"chunk_seconds": 5.0, "retries": 3, "workers": 2}
# Fetching in this process, and in two worker processes (as long recordings are).
FETCHERS = pytest.mark.parametrize("fetch_processes", [1, 2], ids=["in-process", "workers"])


def reference(recording: Recording) -> np.ndarray:
    pcm, _ = decode(b"".join(recording.frames), format="aac")
    return pcm


def assert_same_audio(expected: np.ndarray, path: Path, tolerance_samples: int = 1) -> np.ndarray:
    decoded, rate = decode(path)
    assert rate == SAMPLE_RATE
    assert abs(len(decoded) - len(expected)) <= tolerance_samples, (len(decoded), len(expected))
    lag, correlation = best_lag(expected, decoded)
    assert abs(lag) <= tolerance_samples
    assert correlation > 0.95
    return decoded


@pytest.mark.parametrize("kind", ["ts", "packed"])
def test_mp3_from_a_media_playlist(server: FakeServer, tmp_path: Path, kind: str) -> None:
    recording = make_recording(23.0, kind)
    url = server.serve_recording(recording)
    result = download(url, str(tmp_path / "%(title)s.%(ext)s"), **FAST)
    assert result.complete
    assert result.path == tmp_path / "index.mp3"
    expected = reference(recording)
    assert result.duration == len(expected) / SAMPLE_RATE
    assert mutagen.mp3.MP3(result.path).info.length == pytest.approx(result.duration, abs=1e-4)
    assert_same_audio(expected, result.path)
    assert not list(tmp_path.glob(".*.parts"))  # the parts cache is cleaned up


def test_m4a_is_a_lossless_remux_from_the_best_variant(server: FakeServer, tmp_path: Path) -> None:
    good = make_recording(11.0, "packed", seed=2)
    poor = make_recording(11.0, "packed", seed=9)
    server.serve_recording(good, "/hi/")
    server.serve_recording(poor, "/lo/")
    server.static(
        "/master.m3u8",
        "#EXTM3U\n"
        '#EXT-X-STREAM-INF:BANDWIDTH=32000,CODECS="mp4a.40.2"\nlo/index.m3u8\n'
        '#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2"\nhi/index.m3u8\n',
    )
    result = download(
        f"{server.url}/master.m3u8", str(tmp_path / "out.%(ext)s"), format="m4a", **FAST
    )
    assert result.duration == len(good.frames) * AAC_FRAME_SAMPLES / SAMPLE_RATE
    assert mutagen.mp4.MP4(result.path).info.length == pytest.approx(result.duration, abs=0.03)
    # Lossless: the very AAC frames that were served are in the file.
    import av

    with av.open(str(result.path)) as container:
        payloads = [bytes(p) for p in container.demux(audio=0) if p.size]
    assert payloads == [f[7:] for f in good.frames]
    tags = mutagen.mp4.MP4(result.path).tags
    assert tags is not None
    assert tags["\xa9nam"] == ["master"]
    assert tags["\xa9cmt"] == [f"{server.url}/master.m3u8"]


@pytest.mark.parametrize("fmt", ["wav", "opus", "ts"])
def test_other_formats(server: FakeServer, tmp_path: Path, fmt: str) -> None:
    recording = make_recording(7.0, "ts", seed=4)
    url = server.serve_recording(recording)
    result = download(url, str(tmp_path / "out.%(ext)s"), format=fmt, **FAST)
    assert result.path.suffix == f".{fmt}"
    expected = reference(recording)
    decoded, _ = decode(result.path)
    tolerance = {"wav": 0, "ts": 0, "opus": 960}[fmt]
    assert abs(len(decoded) - len(expected)) <= tolerance + 312  # opus pre-skip rounding
    _lag, correlation = best_lag(expected, decoded)
    assert correlation > 0.9


@FETCHERS
def test_transient_faults_are_retried(
    server: FakeServer, tmp_path: Path, fetch_processes: int
) -> None:
    recording = make_recording(13.0, "ts", seed=5)
    url = server.serve_recording(recording)
    server.faults["/hls/seg1.ts"] = [Reply(503), Reply(503)]
    server.faults["/hls/seg2.ts"] = [Reply(200, recording.segments[2], drop_after=1000)]
    server.faults["/hls/seg3.ts"] = [Reply(200, recording.segments[3][:5000])]  # truncated
    server.faults["/hls/index.m3u8"] = [Reply(502)]
    result = download(url, str(tmp_path / "out.%(ext)s"), fetch_processes=fetch_processes, **FAST)
    assert result.complete, result.warnings
    assert server.hits["/hls/seg1.ts"] == 3
    assert server.hits["/hls/seg2.ts"] == 2
    assert server.hits["/hls/seg3.ts"] == 2
    assert_same_audio(reference(recording), result.path)


@FETCHERS
@pytest.mark.parametrize("fault", ["missing", "corrupt"])
def test_a_segment_that_stays_bad_becomes_silence_of_its_length(
    server: FakeServer, tmp_path: Path, fault: str, fetch_processes: int
) -> None:
    recording = make_recording(15.0, "ts", seed=6)
    url = server.serve_recording(recording)
    bad = 3
    path = f"/hls/seg{bad}.ts"
    if fault == "missing":
        del server.routes[path]
    else:
        garbage = bytes(np.random.default_rng(0).integers(0, 256, 20000, dtype=np.uint8))
        server.static(path, garbage)
    result = download(
        url,
        str(tmp_path / "out.%(ext)s"),
        fetch_processes=fetch_processes,
        **{**FAST, "retries": 1},
    )
    assert not result.complete
    assert len(result.warnings) == 1
    assert f"segment {bad}" in result.warnings[0]
    assert "silence" in result.warnings[0]
    expected = reference(recording).copy()
    start = sum(len(g) for g in recording.groups[:bad]) * AAC_FRAME_SAMPLES
    length = len(recording.groups[bad]) * AAC_FRAME_SAMPLES
    assert result.duration == len(expected) / SAMPLE_RATE  # never a shortened file
    original = expected.copy()
    expected[start : start + length] = 0.0
    decoded = assert_same_audio(expected, result.path)
    gap = decoded[start + 2048 : start + length - 2048]
    assert np.abs(gap).max() < 0.02  # silence where the segment was
    after = decoded[start + length + 2048 : start + length + SAMPLE_RATE]
    assert (
        np.abs(after - original[start + length + 2048 : start + length + SAMPLE_RATE]).max() < 0.2
    )


@FETCHERS
def test_resume_after_interruption_gives_the_same_file(
    server: FakeServer, tmp_path: Path, fetch_processes: int
) -> None:
    recording = make_recording(21.0, "ts", seed=7)
    url = server.serve_recording(recording)
    clean = download(url, str(tmp_path / "clean" / "out.%(ext)s"), **FAST)
    fetching = {**FAST, "fetch_processes": fetch_processes}

    class Interrupted(Exception):
        pass

    def interrupt_midway(progress: object) -> None:
        if getattr(progress, "segments_done", 0) >= 5:
            raise Interrupted

    before = dict(server.hits)
    with pytest.raises(Interrupted):
        download(
            url, str(tmp_path / "resumed" / "out.%(ext)s"), progress=interrupt_midway, **fetching
        )
    cache = tmp_path / "resumed" / ".out.mp3.parts"
    parts = [line for index in cache.glob("index*.tsv") for line in index.read_text().splitlines()]
    assert len(parts) >= 5
    fetched_first = {k: server.hits[k] - before.get(k, 0) for k in server.hits}
    resumed = download(url, str(tmp_path / "resumed" / "out.%(ext)s"), **fetching)
    assert resumed.path.read_bytes() == clean.path.read_bytes()
    refetched = sum(
        1
        for k in server.hits
        if k.endswith(".ts") and server.hits[k] - before.get(k, 0) - fetched_first.get(k, 0) > 0
    )
    assert refetched <= len(recording.groups) - len(parts)


def test_start_offset_from_the_playlist_trims_exactly(server: FakeServer, tmp_path: Path) -> None:
    recording = make_recording(17.0, "ts", seed=8)
    server.serve_recording(recording)
    offset = 0.75  # inside the first listed segment
    server.static("/hls/trimmed.m3u8", recording.playlist(first=2, start_offset=offset))
    result = download(f"{server.url}/hls/trimmed.m3u8", str(tmp_path / "t.%(ext)s"), **FAST)
    expected = reference(recording)
    skip = sum(len(g) for g in recording.groups[:2]) * AAC_FRAME_SAMPLES + round(
        offset * SAMPLE_RATE
    )
    assert result.duration == (len(expected) - skip) / SAMPLE_RATE
    assert_same_audio(expected[skip:], result.path)


def test_a_live_playlist_needs_live(server: FakeServer, tmp_path: Path) -> None:
    recording = make_recording(7.0, "ts")
    server.serve_recording(recording)
    server.static("/hls/live.m3u8", recording.playlist(ended=False))
    with pytest.raises(SpaceIsLive, match="use --live"):
        download(f"{server.url}/hls/live.m3u8", str(tmp_path / "x.%(ext)s"), **FAST)


@pytest.mark.slow  # a live Space or a growing playlist, seconds of real time
def test_live_follows_the_growing_playlist_to_its_end(server: FakeServer, tmp_path: Path) -> None:
    recording = make_recording(19.0, "ts", seed=10)
    server.serve_recording(recording)
    total = len(recording.groups)
    window = 3
    polls = {"count": 0}

    def live_playlist(_request: object) -> Reply:
        # Each poll, one more segment exists; the window slides; the end adds ENDLIST.
        polls["count"] += 1
        last = min(total, 4 + polls["count"])
        text = recording.playlist(first=max(0, last - window), last=last, ended=last == total)
        return Reply(200, text.encode(), "application/vnd.apple.mpegurl")

    server.routes["/hls/live.m3u8"] = live_playlist
    result = download(f"{server.url}/hls/live.m3u8", str(tmp_path / "l.%(ext)s"), live=True, **FAST)
    first_recorded = 4 + 1 - window
    skip = sum(len(g) for g in recording.groups[:first_recorded]) * AAC_FRAME_SAMPLES
    expected = reference(recording)[skip:]
    assert result.warnings
    assert "before the live edge" in result.warnings[0]
    assert_same_audio(expected, result.path)


def test_progress_covers_fetching_and_converting(server: FakeServer, tmp_path: Path) -> None:
    url = server.serve_recording(make_recording(15.0, "ts", seed=14))
    seen: list[tuple[str, float, float]] = []

    def progress(state: Progress) -> None:
        seen.append((state.stage, state.fraction, state.seconds_converted))

    result = download(url, str(tmp_path / "p.%(ext)s"), progress=progress, **FAST)
    fractions = [fraction for _, fraction, _ in seen]
    assert fractions == sorted(fractions)  # never goes back
    assert seen[-1] == ("done", 1.0, pytest.approx(result.duration, abs=0.05))
    assert {"downloading", "finishing"} <= {stage for stage, _, _ in seen}
