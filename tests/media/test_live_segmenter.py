from __future__ import annotations

import errno
import itertools
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from airspace.downloader import download
from airspace.downloader.hls import parse_media
from airspace.media.constants import AAC_FRAME_SAMPLES
from airspace.media.live_segmenter import (
    HOT_WINDOW,
    MAX_UNSTORED,
    LiveSegmenter,
    StorageRefused,
    StoredSegment,
)
from airspace.media.mixer import FRAME_SAMPLES
from airspace.storage.local import LocalStorage
from tests.audio import SAMPLE_RATE, best_lag, decode, tone_bursts
from tests.downloader.hls_server import FakeServer

STARTED = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def run(
    storage: LocalStorage, seconds: float
) -> tuple[LiveSegmenter, list[StoredSegment], list[str]]:
    announced: list[str] = []

    def on_segment(segment: StoredSegment, data: bytes) -> None:
        # Durable before anything names it, and handed on as stored.
        assert storage.get(segment.key) == data
        announced.append(segment.key)

    segmenter = LiveSegmenter(storage, "spaces/AAAAAAAAAAAAA/live", STARTED, on_segment)
    pcm = tone_bursts(seconds, seed=51)
    stored = []
    for start in range(0, len(pcm), FRAME_SAMPLES):  # 20 ms program frames, as the engine sends
        stored += segmenter.push(pcm[start : start + FRAME_SAMPLES])
    stored += segmenter.close()
    return segmenter, stored, announced


def test_segments_are_two_seconds_contiguous_and_stored_first(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    segmenter, stored, announced = run(storage, 61.0)
    assert [s.sequence for s in stored] == list(range(31))
    assert announced == [s.key for s in stored]
    assert all(abs(s.duration - 2.0) < AAC_FRAME_SAMPLES / SAMPLE_RATE for s in stored[:-1])
    for before, after in itertools.pairwise(stored):
        assert after.first_sample == before.first_sample + before.samples  # no hole
    assert segmenter.duration == pytest.approx(61.0, abs=AAC_FRAME_SAMPLES / SAMPLE_RATE)
    offset = (stored[15].program_date_time - STARTED).total_seconds()
    assert offset == pytest.approx(stored[15].first_sample / SAMPLE_RATE, abs=1e-6)


def test_live_playlist_slides_then_ends(tmp_path: Path) -> None:
    segmenter, stored, _ = run(LocalStorage(tmp_path), 21.0)
    live = parse_media(segmenter.live_playlist(), "http://h/live.m3u8")
    assert live.is_live
    assert [s.sequence for s in live.segments] == [s.sequence for s in stored[-HOT_WINDOW:]]
    shown = live.segments[0].program_date_time
    assert shown is not None
    # The playlist writes milliseconds.
    assert abs((shown - stored[-HOT_WINDOW].program_date_time).total_seconds()) < 0.001
    final = parse_media(segmenter.live_playlist(ended=True), "http://h/live.m3u8")
    assert final.ended
    assert len(final.segments) == len(stored)


def test_the_stored_program_is_the_input(tmp_path: Path, server: FakeServer) -> None:
    """Listeners (and the downloader) get exactly what was played into the room."""
    storage = LocalStorage(tmp_path / "media")
    segmenter, stored, _ = run(storage, 13.0)
    for segment in stored:
        server.static(f"/live/{segment.name}", storage.get(segment.key))
    server.static("/live/index.m3u8", segmenter.live_playlist(ended=True))
    result = download(
        f"{server.url}/live/index.m3u8", str(tmp_path / "out.%(ext)s"), format="wav", workers=1
    )
    source = tone_bursts(13.0, seed=51)
    decoded, _ = decode(result.path)
    assert abs(len(decoded) - len(source)) < AAC_FRAME_SAMPLES
    lag, correlation = best_lag(source, decoded)
    assert lag == 0
    assert correlation > 0.95


class FillingDisk(LocalStorage):
    """A real directory whose disk fills up and frees again, as the test says."""

    full = False

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        if self.full:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().put(key, data, content_type)


def test_segments_storage_refuses_wait_in_memory_and_are_stored_in_order(
    tmp_path: Path,
) -> None:
    storage = FillingDisk(tmp_path)
    listed: list[StoredSegment] = []
    segmenter = LiveSegmenter(
        storage, "live", datetime.now(UTC), on_segment=lambda segment, _: listed.append(segment)
    )
    second = np.zeros(SAMPLE_RATE, dtype=np.float32)
    for _ in range(4):
        segmenter.push(second)
    assert len(listed) == 1  # 2 s stored, the rest still being cut
    storage.full = True
    for _ in range(6):
        segmenter.push(second)  # the Space goes on
    assert len(listed) == 1  # nothing is named before it is durable
    assert b"000001.ts" not in segmenter.playlist
    storage.full = False
    segmenter.push(second)
    assert [s.sequence for s in listed] == list(range(5))
    assert [s.key for s in listed] == [f"live/{n:06d}.ts" for n in range(5)]
    assert all(storage.get(s.key) for s in listed)
    for before, after in itertools.pairwise(listed):
        assert after.first_sample == before.first_sample + before.samples


def test_a_space_whose_storage_stays_full_keeps_what_was_stored(tmp_path: Path) -> None:
    storage = FillingDisk(tmp_path)
    listed: list[StoredSegment] = []
    segmenter = LiveSegmenter(
        storage, "live", datetime.now(UTC), on_segment=lambda segment, _: listed.append(segment)
    )
    two_seconds = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    segmenter.push(two_seconds)
    segmenter.push(two_seconds)
    kept = list(listed)
    storage.full = True
    for _ in range(MAX_UNSTORED):  # a minute of program waits in memory
        segmenter.push(two_seconds)
    with pytest.raises(StorageRefused):  # more than that ends the Space
        segmenter.push(two_seconds)
    assert listed == kept
    with pytest.raises(StorageRefused):
        segmenter.close()  # what is left cannot be stored either
    assert listed == kept
