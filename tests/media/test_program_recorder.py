"""A room's program stored where it is mixed: segments durable before they are told,
in order, on the recording's timeline (lead-in included), the speaker tracks beside
them, and the end of the Space where the recording stops."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from airspace.clock import SettableClock
from airspace.media.constants import AAC_FRAME_SAMPLES, SAMPLE_RATE
from airspace.media.live_segmenter import Resume
from airspace.media.mixer import FRAME_SAMPLES
from airspace.media.program_recorder import ProgramRecorder, SegmentPlan, SegmentStored
from airspace.media.speaker_tracks import TrackPart
from airspace.storage.local import LocalStorage
from tests.audio import decode

STARTED = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Told:
    def __init__(self) -> None:
        self.stored: list[SegmentStored] = []
        self.failures: list[BaseException] = []


def tone_frames(seconds: float, hz: float = 440.0) -> list[np.ndarray]:
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    pcm = (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    return [pcm[i : i + FRAME_SAMPLES] for i in range(0, len(pcm), FRAME_SAMPLES)]


def recorder_for(
    storage: LocalStorage, plan: SegmentPlan, late: float = 0.0
) -> tuple[ProgramRecorder, Told]:
    told = Told()
    clock = SettableClock(plan.started_at + timedelta(seconds=late))
    recorder = ProgramRecorder(storage, plan, clock, told.stored.append, told.failures.append)
    return recorder, told


def test_segments_are_stored_then_told_in_order_after_the_lead_in(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    plan = SegmentPlan("spaces/a/live/", STARTED, tracks_prefix="spaces/a/tracks/parts/")

    async def scenario() -> Told:
        recorder, told = recorder_for(storage, plan, late=1.5)
        assert recorder.room_start == round(1.5 * SAMPLE_RATE)  # the worker's start-up
        for frame in tone_frames(5.0):
            recorder.program(frame)
        recorder.track(TrackPart("7", first_frame=50, packets=(b"\xfc\x01", b"\xfc\x02")))
        await recorder.close()
        return told

    told = asyncio.run(scenario())
    assert told.failures == []
    segments = [notice.segment for notice in told.stored]
    assert [s.sequence for s in segments] == [0, 1, 2, 3]
    assert sum(s.samples for s in segments) / SAMPLE_RATE == pytest.approx(6.5, abs=0.03)
    assert told.stored[-1].duration == pytest.approx(6.5, abs=0.03)
    for notice in told.stored:
        assert storage.get(notice.segment.key) == notice.data  # durable before told
        assert notice.segment.name.encode() in notice.playlist
    audio = np.concatenate([decode(n.data, format="mpegts")[0] for n in told.stored])
    lead_in, speech = audio[:SAMPLE_RATE], audio[2 * SAMPLE_RATE : 6 * SAMPLE_RATE]
    assert float(np.abs(lead_in).max()) < 0.01
    assert float(np.abs(speech).max()) > 0.2
    start = round(1.5 * SAMPLE_RATE) + 50 * FRAME_SAMPLES  # on the recording's timeline
    assert storage.list("spaces/a/tracks/parts/") == [f"spaces/a/tracks/parts/7/{start:012d}"]


def test_nothing_past_the_end_of_the_space_is_recorded(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    async def scenario() -> Told:
        recorder, told = recorder_for(storage, SegmentPlan("live/", STARTED))
        for frame in tone_frames(1.0):
            recorder.program(frame)
        recorder.stop_at(time.monotonic())  # in flight after this: not part of the Space
        for frame in tone_frames(3.0):
            recorder.program(frame)
        await recorder.close()
        return told

    told = asyncio.run(scenario())
    recorded = sum(n.segment.samples for n in told.stored) / SAMPLE_RATE
    assert recorded == pytest.approx(1.0, abs=0.05)


def test_a_resumed_recording_goes_on_where_the_stored_audio_ends(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    ends = 468 * AAC_FRAME_SAMPLES  # stored audio ends on a whole AAC frame, about 10 s in
    resume = Resume(sequence=5, key_index=9, first_sample=ends, at=STARTED)

    async def scenario() -> tuple[ProgramRecorder, Told]:
        recorder, told = recorder_for(storage, SegmentPlan("live/", STARTED, resume), late=60)
        for frame in tone_frames(2.5):
            recorder.program(frame)
        await recorder.close()
        return recorder, told

    recorder, told = asyncio.run(scenario())
    assert recorder.room_start == ends  # no lead-in: the time between is lost
    first = told.stored[0].segment
    assert (first.sequence, first.key, first.discontinuity) == (5, "live/000009.ts", True)
    assert first.first_sample == ends


def test_storage_that_stays_away_fails_the_room_once(tmp_path: Path) -> None:
    blocked = tmp_path / "media"
    blocked.write_bytes(b"")  # a file where the segments' directory should be
    storage = LocalStorage(tmp_path)

    async def scenario() -> Told:
        recorder, told = recorder_for(storage, SegmentPlan("media/", STARTED))
        for frame in tone_frames(3.0):
            recorder.program(frame)
        await recorder.close()
        recorder.program(tone_frames(0.02)[0])  # after a failure nothing more is taken
        await asyncio.sleep(0)
        return told

    told = asyncio.run(scenario())
    assert told.stored == []
    assert len(told.failures) == 1
    assert "storage refused" in str(told.failures[0])


def test_an_abandoned_recording_stores_and_tells_nothing_more(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    async def scenario() -> Told:
        recorder, told = recorder_for(storage, SegmentPlan("live/", STARTED))
        for frame in tone_frames(1.0):
            recorder.program(frame)
        recorder.abandon()
        for frame in tone_frames(3.0):
            recorder.program(frame)
        await recorder.close()
        await asyncio.sleep(0.1)
        return told

    told = asyncio.run(scenario())
    assert told.stored == []
    assert told.failures == []
    assert storage.list("live/") == []
