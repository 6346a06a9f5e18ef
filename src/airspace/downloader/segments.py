"""Segment audio: the AAC frames inside an HLS segment, whatever carries them.

HLS audio comes as MPEG-TS segments or as packed audio (raw ADTS AAC behind an ID3
tag, as X serves it). Either way the downloader keeps only the ADTS frames, checks
them, and from then on works on those.
"""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from airspace.media.adts import frame_bounds, make_header, skip_id3
from airspace.media.constants import AAC_FRAME_SAMPLES
from airspace.media.mpegts import TransportStreamError, adts_stream

TS_PACKET = 188
# A segment may be this many AAC frames shorter than its EXTINF before it counts as damaged
# (playlists round durations, and segmenters cut at frame boundaries).
SHORTFALL_FRAMES = 2


class DamagedSegment(ValueError):
    """Bytes that do not hold the audio their playlist entry promises."""


@dataclass(frozen=True)
class SegmentAudio:
    data: bytes
    """Whole ADTS frames, in order, in one piece (and perhaps bytes after them)."""
    bounds: list[int]
    """Where each frame starts, then where the last one ends."""
    sample_rate: int
    channels: int

    @classmethod
    def of_frames(cls, frames: list[bytes], sample_rate: int, channels: int) -> SegmentAudio:
        return cls(
            b"".join(frames), [0, *itertools.accumulate(map(len, frames))], sample_rate, channels
        )

    @property
    def frames(self) -> list[bytes]:
        """Each frame's bytes (cut only when asked for: most segments are stored whole)."""
        data = self.data
        return [data[start:end] for start, end in itertools.pairwise(self.bounds)]

    @property
    def samples(self) -> int:
        return (len(self.bounds) - 1) * AAC_FRAME_SAMPLES

    @property
    def duration(self) -> float:
        return self.samples / self.sample_rate

    def to_bytes(self) -> bytes:
        """The frames, in one piece."""
        start, end = self.bounds[0], self.bounds[-1]
        return self.data if (start, end) == (0, len(self.data)) else self.data[start:end]


def is_transport_stream(data: bytes) -> bool:
    return (
        len(data) >= TS_PACKET
        and data[0] == 0x47
        and (len(data) < 2 * TS_PACKET or data[TS_PACKET] == 0x47)
    )


def _frames_from_transport_stream(data: bytes) -> bytes:
    try:
        return adts_stream(data)
    except TransportStreamError:
        pass  # something unusual: let FFmpeg's demuxer try
    import av  # only for segments the reader above does not understand

    try:
        with av.open(io.BytesIO(data), mode="r", format="mpegts") as container:
            if not container.streams.audio:
                raise DamagedSegment("the MPEG-TS segment has no audio stream")
            stream = container.streams.audio[0]
            if stream.codec_context.name != "aac":
                raise DamagedSegment(f"unsupported audio codec {stream.codec_context.name!r}")
            return b"".join(bytes(packet) for packet in container.demux(stream) if packet.size)
    except av.FFmpegError as exc:
        raise DamagedSegment(f"unreadable MPEG-TS segment: {exc}") from None


def read_segment(data: bytes, expected_duration: float | None = None) -> SegmentAudio:
    """The AAC frames of one segment; raises DamagedSegment when they are not all there."""
    if is_transport_stream(data):
        payload = _frames_from_transport_stream(data)
    else:
        _, payload = skip_id3(data)
    bounds, header, leftover = frame_bounds(payload)
    if header is None:
        raise DamagedSegment("the segment holds no AAC audio")
    if leftover:
        raise DamagedSegment(f"the segment's audio is cut short ({leftover} stray bytes)")
    audio = SegmentAudio(payload, bounds, header.sample_rate, header.channels)
    if expected_duration is not None:
        expected_frames = expected_duration * header.sample_rate / AAC_FRAME_SAMPLES
        if len(bounds) - 1 < expected_frames - SHORTFALL_FRAMES:
            raise DamagedSegment(
                f"the segment holds {audio.duration:.3f} s of audio, "
                f"its playlist says {expected_duration:.3f} s"
            )
    return audio


def read_normalized(data: bytes) -> SegmentAudio:
    """Frames stored by the parts cache (plain ADTS)."""
    bounds, header, _ = frame_bounds(data)
    if header is None:
        raise DamagedSegment("empty part")
    return SegmentAudio(data, bounds, header.sample_rate, header.channels)


def silence(duration: float, sample_rate: int, channels: int) -> SegmentAudio:
    """AAC-encoded silence lasting ``duration`` seconds, rounded to whole AAC frames."""
    import av  # imported when needed: lossless downloads start without it

    count = max(1, round(duration * sample_rate / AAC_FRAME_SAMPLES))
    encoder = av.CodecContext.create("aac", "w")
    assert isinstance(encoder, av.AudioCodecContext)
    encoder.sample_rate = sample_rate
    encoder.layout = "mono" if channels == 1 else "stereo"
    encoder.format = "fltp"
    encoder.bit_rate = 32_000
    zeros = np.zeros((channels, AAC_FRAME_SAMPLES * (count + 2)), dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(zeros, format="fltp", layout=encoder.layout.name)
    frame.sample_rate = sample_rate
    frame.pts = 0
    frame.time_base = Fraction(1, sample_rate)
    packets = [*encoder.encode(frame), *encoder.encode(None)]
    raw = [bytes(p) for p in packets[1 : count + 1]]
    if len(raw) < count:
        raise RuntimeError("the AAC encoder returned too few frames of silence")
    return SegmentAudio.of_frames(
        [make_header(len(r), sample_rate, channels) + r for r in raw], sample_rate, channels
    )
