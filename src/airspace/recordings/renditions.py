"""Single-file renditions of a replay, made by jobs from the stored segments and cut at
the start offset: M4A (the AAC remuxed, sample-exact through an edit list) for browsers
without HLS and for downloads, and MP3 (decoded and encoded) on demand.

A rendition is stored under a name that holds its offset, so moving the start time
makes a new file and destroys nothing.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from airspace.downloader.mp3 import DEFAULT_VBR_QUALITY, ChunkResult, Mp3Writer
from airspace.media.adts import audio_specific_config, parse_header, raw_blocks, split_frames
from airspace.media.constants import AAC_FRAME_SAMPLES, SAMPLE_RATE
from airspace.media.mp3_encoders import open_mp3_encoder
from airspace.media.mp4 import Mp4AudioWriter, frames_with_margin
from airspace.media.mpegts import adts_stream, decode_audio
from airspace.recordings.models import Recording, RecordingSegment
from airspace.recordings.replay import segment_at

if TYPE_CHECKING:
    from airspace.wiring import Services

Format = Literal["m4a", "mp3"]
CONTENT_TYPES: dict[str, str] = {"m4a": "audio/mp4", "mp3": "audio/mpeg"}


def rendition_key(recording: Recording, fmt: str, offset: float | None = None) -> str:
    at = recording.start_offset_seconds if offset is None else offset
    return f"{recording.media_prefix}renditions/replay-{round(at * 1000)}ms.{fmt}"


def _start(segments: Sequence[RecordingSegment], offset: float) -> tuple[int, int]:
    """The segment holding ``offset`` and how many of its samples come before it."""
    first = segment_at(segments, offset)
    return first, max(0, round(offset * SAMPLE_RATE) - segments[first].first_sample)


def _adts_from(
    read: Callable[[str], bytes], segments: Sequence[RecordingSegment], offset: float
) -> tuple[Iterator[list[bytes]], int]:
    """ADTS frames per segment from the frame holding ``offset``, and how many samples of
    that first frame come before the offset."""
    first, into = _start(segments, offset)
    skip_frames, skip_samples = divmod(into, AAC_FRAME_SAMPLES)

    def frames() -> Iterator[list[bytes]]:
        for index in range(first, len(segments)):
            found, _, _ = split_frames(adts_stream(read(segments[index].key)))
            yield found[skip_frames:] if index == first else found

    return frames(), skip_samples


def write_m4a(
    read: Callable[[str], bytes],
    segments: Sequence[RecordingSegment],
    offset: float,
    path: Path,
    progress: Callable[[float], None],
) -> None:
    batches, skip_samples = _adts_from(read, segments, offset)
    writer: Mp4AudioWriter | None = None
    for number, batch in enumerate(batches):
        if not batch:
            continue
        if writer is None:
            last = segments[-1]
            writer = Mp4AudioWriter(
                path,
                audio_specific_config(batch[0]),
                SAMPLE_RATE,
                1,
                expected_frames=frames_with_margin(
                    last.first_sample + last.samples - round(offset * SAMPLE_RATE)
                ),
            )
        writer.add(raw_blocks(batch, parse_header(batch[0]).header_length))
        progress((number + 1) / max(1, len(segments)))
    if writer is None:
        raise ValueError("the recording holds no audio")
    writer.finish(skip_samples)


def write_mp3(
    read: Callable[[str], bytes],
    segments: Sequence[RecordingSegment],
    offset: float,
    path: Path,
    progress: Callable[[float], None],
) -> None:
    first, skip = _start(segments, offset)
    encoder = open_mp3_encoder(SAMPLE_RATE, 1, DEFAULT_VBR_QUALITY)
    frames: list[bytes] = []
    samples = 0
    for index in range(first, len(segments)):
        pcm = decode_audio(read(segments[index].key))
        if index == first:
            pcm = pcm[skip:]
        samples += len(pcm)
        frames.extend(encoder.encode(pcm.reshape(1, -1)))
        progress((index - first + 1) / (len(segments) - first))
    frames.extend(encoder.flush())
    writer = Mp3Writer(path, SAMPLE_RATE, 1, DEFAULT_VBR_QUALITY)
    writer.add(0, ChunkResult(frames, encoder.delay, 0))
    writer.finish(samples)


def render(
    services: Services,
    recording: Recording,
    segments: Sequence[RecordingSegment],
    fmt: str,
    offset: float,
    progress: Callable[[float], None],
) -> str:
    """Make the ``fmt`` rendition from ``offset`` and store it; returns its key."""
    if not segments:
        raise ValueError("the recording holds no segments")
    write = write_m4a if fmt == "m4a" else write_mp3
    with tempfile.TemporaryDirectory(prefix="airspace-render-") as folder:
        path = Path(folder) / f"replay.{fmt}"
        write(services.storage.get, segments, offset, path, progress)
        key = rendition_key(recording, fmt, offset)
        services.storage.put_file(key, path, CONTENT_TYPES[fmt])
    return key


def pcm_between(
    read: Callable[[str], bytes],
    segments: Sequence[RecordingSegment],
    start: float,
    seconds: float,
) -> np.ndarray:
    """``seconds`` of the recording's audio from ``start`` (both on the recording's own
    clock), decoded to the sample. The segment before is decoded too and the stored
    segments are joined first, so the decoder's overlap is right at the cut."""
    if not segments:
        raise ValueError("the recording holds no segments")
    begin, count = round(start * SAMPLE_RATE), round(seconds * SAMPLE_RATE)
    first = max(0, segment_at(segments, start) - 1)
    last = segment_at(segments, start + seconds)
    joined = b"".join(read(segment.key) for segment in segments[first : last + 1])
    pcm = decode_audio(joined)[begin - segments[first].first_sample :][:count]
    if len(pcm) < count:
        raise ValueError("the stretch asked for runs past the end of the recording")
    return pcm
