"""Single-file renditions of a replay, made by jobs from the stored segments and cut at
the start offset: M4A (the AAC remuxed, sample-exact through an edit list) for browsers
without HLS and for downloads, and MP3 (decoded and encoded) on demand.

A rendition is stored under a name that holds its offset, so moving the start time
makes a new file and destroys nothing.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from sqlalchemy.orm import Session

from airspace.media import audio_files
from airspace.media.adts import audio_specific_config, parse_header, raw_blocks, split_frames
from airspace.media.constants import AAC_FRAME_SAMPLES, SAMPLE_RATE
from airspace.media.cover import cover_art
from airspace.media.mp4 import frames_with_margin
from airspace.media.mpegts import adts_stream, decode_audio
from airspace.media.tags import FileTags
from airspace.recordings.models import Recording, RecordingSegment
from airspace.recordings.replay import segment_at, total_seconds
from airspace.spaces.models import Space

if TYPE_CHECKING:
    from airspace.wiring import Services

Format = Literal["m4a", "mp3", "wav"]
CONTENT_TYPES: dict[str, str] = {"m4a": "audio/mp4", "mp3": "audio/mpeg", "wav": "audio/wav"}


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
    chapters: Sequence[tuple[float, str]] = (),
) -> None:
    """The recording's own AAC from ``offset``, remuxed (sample-exact by an edit list)."""
    batches, skip_samples = _adts_from(read, segments, offset)
    filled = (batch for batch in batches if batch)
    first = next(filled, None)
    if first is None:
        raise ValueError("the recording holds no audio")
    last = segments[-1]
    audio_files.write_aac_m4a(
        path,
        audio_specific_config(first[0]),
        (raw_blocks(b, parse_header(b[0]).header_length) for b in itertools.chain([first], filled)),
        skip_samples=skip_samples,
        expected_frames=frames_with_margin(
            last.first_sample + last.samples - round(offset * SAMPLE_RATE)
        ),
        chapters=chapters,
        progress=lambda number: progress((number + 1) / max(1, len(segments))),
    )


def _decoded(
    read: Callable[[str], bytes],
    segments: Sequence[RecordingSegment],
    offset: float,
    progress: Callable[[float], None],
) -> Iterator[np.ndarray]:
    """The replay's audio from ``offset``, decoded a segment at a time."""
    first, skip = _start(segments, offset)
    for index in range(first, len(segments)):
        pcm = decode_audio(read(segments[index].key))
        yield pcm[skip:] if index == first else pcm
        progress((index - first + 1) / (len(segments) - first))


def tags_of(session: Session, public_url: str, recording: Recording) -> FileTags:
    """What every file of this replay is tagged with: title, host, date, link, a cover,
    and the chapters (on the replay's clock, which is the file's)."""
    from airspace.recordings import chapters

    space = session.get_one(Space, recording.space_id)
    found, _ = chapters.of_recording(session, recording)
    return FileTags(
        title=space.title,
        host=space.host.display_name,
        date=recording.started_at,
        link=f"{public_url}/i/spaces/{space.id}",
        cover=cover_art(space.title, space.host.display_name),
        chapters=[(c.start, c.title) for c in found],
    )


DECODED_WRITERS = {"mp3": audio_files.write_mp3, "wav": audio_files.write_wav}
"""Formats made from the decoded audio (the M4A is the recording's own AAC, remuxed)."""


def render(
    services: Services,
    recording: Recording,
    segments: Sequence[RecordingSegment],
    fmt: str,
    offset: float,
    progress: Callable[[float], None],
    tags: FileTags,
) -> str:
    """Make the ``fmt`` rendition from ``offset``, tagged, and store it; returns its key."""
    if not segments:
        raise ValueError("the recording holds no segments")
    with tempfile.TemporaryDirectory(prefix="airspace-render-") as folder:
        path = Path(folder) / f"replay.{fmt}"
        read = services.storage.get
        if fmt == "m4a":
            write_m4a(read, segments, offset, path, progress, tags.chapters)
        else:
            DECODED_WRITERS[fmt](_decoded(read, segments, offset, progress), path)
        audio_files.finish(path, fmt, tags, total_seconds(segments) - offset)
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
