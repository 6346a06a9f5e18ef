"""The replay of a recording, built from its stored live segments without re-encoding:
the VOD playlist, the master ``.ts``, the waveform and the speaker timeline, each
starting at the recording's start offset."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from airspace.media.adts import split_frames
from airspace.media.constants import AAC_FRAME_SAMPLES, SAMPLE_RATE, SEGMENT_SECONDS
from airspace.media.hls_segments import PlaylistEntry, media_playlist, mpegts_segment
from airspace.media.live_segmenter import PEAK_SAMPLES
from airspace.media.mpegts import adts_stream
from airspace.recordings.models import RecordingSegment

PEAKS_PER_SECOND = SAMPLE_RATE // PEAK_SAMPLES


@dataclass(frozen=True)
class Turn:
    """A speaker talking, in seconds of the replay (after the start offset)."""

    speaker: str
    username: str | None
    start: float
    end: float


def total_seconds(segments: Sequence[RecordingSegment]) -> float:
    if not segments:
        return 0.0
    last = segments[-1]
    return (last.first_sample + last.samples) / SAMPLE_RATE


def segment_at(segments: Sequence[RecordingSegment], offset: float) -> int:
    """Index of the segment holding ``offset`` seconds (the last one past the end)."""
    starts = [s.first_sample for s in segments]
    index = bisect.bisect_right(starts, round(offset * SAMPLE_RATE)) - 1
    return max(0, min(index, len(segments) - 1))


def vod_playlist(
    segments: Sequence[RecordingSegment], offset: float, uri: Callable[[RecordingSegment], str]
) -> str:
    """A VOD playlist from the segment holding ``offset``, with ``EXT-X-START`` at the
    exact point (relative to the playlist's first segment)."""
    if not segments:
        return media_playlist([], vod=True, target_duration=SEGMENT_SECONDS)
    first = segment_at(segments, offset)
    shown = segments[first:]
    entries = [
        PlaylistEntry(uri(s), s.samples / SAMPLE_RATE, s.program_date_time, s.discontinuity)
        for s in shown
    ]
    into_first = max(0.0, offset - shown[0].first_sample / SAMPLE_RATE)
    return media_playlist(
        entries,
        media_sequence=shown[0].sequence,
        vod=True,
        start_offset=into_first if into_first > 0 else None,
        target_duration=SEGMENT_SECONDS,
    )


def master_ts(
    segments: Sequence[RecordingSegment], offset: float, read: Callable[[str], bytes]
) -> Iterator[bytes]:
    """The recording as one MPEG-TS stream, from the AAC frame holding ``offset``: the
    first segment is re-multiplexed from that frame, the rest are the stored bytes."""
    if not segments:
        return
    first = segment_at(segments, offset)
    for index in range(first, len(segments)):
        segment = segments[index]
        data = read(segment.key)
        if index == first and offset > segment.first_sample / SAMPLE_RATE:
            frames, _, _ = split_frames(adts_stream(data))
            skip = int((round(offset * SAMPLE_RATE) - segment.first_sample) // AAC_FRAME_SAMPLES)
            skip = min(skip, max(0, len(frames) - 1))
            data = mpegts_segment(frames[skip:], segment.first_sample + skip * AAC_FRAME_SAMPLES)
        yield data


def waveform(segments: Sequence[RecordingSegment], offset: float) -> list[float]:
    """Peaks (0 to 1), ten a second, from ``offset`` to the end."""
    peaks = b"".join(s.peaks or bytes(-(-s.samples // PEAK_SAMPLES)) for s in segments)
    skip = int(offset * PEAKS_PER_SECOND)
    return [round(p / 255, 3) for p in peaks[skip:]]


def shifted_turns(turns: Sequence[Turn], offset: float, duration: float) -> list[Turn]:
    """Turns on the replay's clock: shifted by ``offset``, cut to [0, duration]."""
    kept = []
    for turn in turns:
        start, end = max(0.0, turn.start - offset), min(duration, turn.end - offset)
        if end > start:
            kept.append(Turn(turn.speaker, turn.username, round(start, 3), round(end, 3)))
    return kept
