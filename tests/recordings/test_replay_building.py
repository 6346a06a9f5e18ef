"""Building the replay from segment rows: where the offset falls, the VOD playlist, the
master file, the waveform and the speaker timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from airspace.media.hls_segments import mpegts_segment
from airspace.recordings.models import RecordingSegment
from airspace.recordings.replay import (
    Turn,
    master_ts,
    segment_at,
    shifted_turns,
    vod_playlist,
    waveform,
)
from tests.audio import aac_frames, decode

START = datetime(2026, 11, 21, 12, tzinfo=UTC)
SAMPLES = 94 * 1024  # one 2-second segment


def rows(count: int) -> list[RecordingSegment]:
    return [
        RecordingSegment(
            sequence=n,
            key=f"spaces/x/live/{n:06d}.ts",
            first_sample=n * SAMPLES,
            samples=SAMPLES,
            program_date_time=START + timedelta(seconds=n * SAMPLES / 48_000),
            peaks=bytes([n * 10] * 20),
        )
        for n in range(count)
    ]


def test_the_offset_picks_the_segment_that_holds_it() -> None:
    segments = rows(3)
    assert segment_at(segments, 0.0) == 0
    assert segment_at(segments, SAMPLES / 48_000 - 0.001) == 0
    assert segment_at(segments, SAMPLES / 48_000) == 1
    assert segment_at(segments, 999.0) == 2


def test_the_playlist_starts_at_the_offset() -> None:
    segments = rows(3)
    whole = vod_playlist(segments, 0.0, lambda s: s.key.rsplit("/", 1)[1])
    assert "#EXT-X-START" not in whole
    assert whole.count("#EXTINF") == 3
    assert whole.rstrip().endswith("#EXT-X-ENDLIST")
    offset = SAMPLES / 48_000 + 0.5
    trimmed = vod_playlist(segments, offset, lambda s: s.key.rsplit("/", 1)[1])
    assert "#EXT-X-MEDIA-SEQUENCE:1" in trimmed
    assert "#EXT-X-START:TIME-OFFSET=0.500000,PRECISE=YES" in trimmed
    assert trimmed.count("#EXTINF") == 2


def test_the_master_file_is_cut_at_the_frame_holding_the_offset() -> None:
    frames = aac_frames(np.zeros(SAMPLES, dtype=np.float32))[:94]
    stored = {s.key: mpegts_segment(frames, s.first_sample) for s in rows(2)}
    offset = 1.0
    data = b"".join(master_ts(rows(2), offset, stored.__getitem__))
    skipped = int(offset * 48_000) // 1024 * 1024
    assert len(decode(data, "mpegts")[0]) == 2 * SAMPLES - skipped


def test_waveform_and_turns_follow_the_offset() -> None:
    peaks = waveform(rows(2), 1.0)
    assert len(peaks) == 30
    assert peaks[0] == 0.0
    assert peaks[-1] == pytest.approx(10 / 255, abs=0.001)
    turns = [Turn("A", "a", 0.5, 1.5), Turn("B", "b", 2.0, 3.0), Turn("A", "a", 9.0, 12.0)]
    assert shifted_turns(turns, 1.0, 9.0) == [
        Turn("A", "a", 0.0, 0.5),
        Turn("B", "b", 1.0, 2.0),
        Turn("A", "a", 8.0, 9.0),
    ]
