"""ADTS: the self-describing framing of AAC that HLS carries (in MPEG-TS, or raw)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

ADTS_SAMPLE_RATES = (
    96000,
    88200,
    64000,
    48000,
    44100,
    32000,
    24000,
    22050,
    16000,
    12000,
    11025,
    8000,
    7350,
)
ADTS_HEADER_BYTES = 7


class ADTSError(ValueError):
    """Bytes that are not a well-formed ADTS frame."""


@dataclass(frozen=True)
class ADTSHeader:
    profile: int
    """Audio object type minus one (1 = AAC-LC)."""
    sample_rate: int
    channels: int
    frame_length: int
    """Bytes, header included."""
    header_length: int


def parse_header(data: bytes | memoryview, offset: int = 0) -> ADTSHeader:
    if len(data) - offset < ADTS_HEADER_BYTES:
        raise ADTSError("truncated ADTS header")
    b = data[offset : offset + ADTS_HEADER_BYTES]
    if b[0] != 0xFF or (b[1] & 0xF6) != 0xF0:
        raise ADTSError("no ADTS sync word")
    protection_absent = b[1] & 0x01
    profile = (b[2] >> 6) & 0x03
    rate_index = (b[2] >> 2) & 0x0F
    if rate_index >= len(ADTS_SAMPLE_RATES):
        raise ADTSError(f"invalid ADTS sample-rate index {rate_index}")
    channels = ((b[2] & 0x01) << 2) | ((b[3] >> 6) & 0x03)
    frame_length = ((b[3] & 0x03) << 11) | (b[4] << 3) | ((b[5] >> 5) & 0x07)
    header_length = 7 if protection_absent else 9
    if frame_length < header_length:
        raise ADTSError(f"ADTS frame length {frame_length} is shorter than its header")
    if (b[6] & 0x03) != 0:
        raise ADTSError("ADTS frames holding several raw blocks are not supported")
    return ADTSHeader(profile, ADTS_SAMPLE_RATES[rate_index], channels, frame_length, header_length)


def audio_specific_config(adts_frame: bytes) -> bytes:
    """The two-byte AudioSpecificConfig (MP4 and TS extradata) matching an ADTS frame."""
    header = parse_header(adts_frame)
    object_type = header.profile + 1
    rate_index = ADTS_SAMPLE_RATES.index(header.sample_rate)
    value = (object_type << 11) | (rate_index << 7) | (header.channels << 3)
    return value.to_bytes(2, "big")


def frame_bounds(data: bytes) -> tuple[list[int], ADTSHeader | None, int]:
    """Where the whole ADTS frames at the start of ``data`` begin and end.

    Returns the boundaries (the first frame's start, then each frame's end: one more
    than the frames), the first header (None when there is none), and how many trailing
    bytes did not form a whole frame (a truncated stream has some).

    Only the first header is parsed in full. Every later frame must repeat its fixed
    header (sync word, protection, profile, sample rate, channels; so every frame has
    the first one's header length) and hold one raw block. That is checked byte by
    byte, which is what keeps a 90-minute recording's 250,000 frames quick.
    """
    size = len(data)
    try:
        first = parse_header(data)
    except ADTSError:
        return [], None, size
    fixed1, fixed2, fixed3 = data[1], data[2], data[3] & 0xC0
    shortest = first.header_length
    offset = 0
    bounds = [0]
    while offset + ADTS_HEADER_BYTES <= size:
        if (
            data[offset] != 0xFF
            or data[offset + 1] != fixed1
            or data[offset + 2] != fixed2
            or data[offset + 3] & 0xC0 != fixed3
            or data[offset + 6] & 0x03
        ):
            break
        length = (
            ((data[offset + 3] & 0x03) << 11) | (data[offset + 4] << 3) | (data[offset + 5] >> 5)
        )
        end = offset + length
        if length < shortest or end > size:
            break
        bounds.append(end)
        offset = end
    return bounds, first, size - offset


def split_frames(data: bytes) -> tuple[list[bytes], ADTSHeader | None, int]:
    """Split a run of ADTS frames (checked as ``frame_bounds`` says): the whole frames,
    the first header, and the count of trailing bytes that did not form a frame."""
    bounds, first, leftover = frame_bounds(data)
    return [data[a:b] for a, b in itertools.pairwise(bounds)], first, leftover


def raw_blocks(frames: list[bytes], header_length: int) -> list[bytes]:
    """The AAC payloads of frames that share one header length (as split_frames gives)."""
    return [frame[header_length:] for frame in frames]


def skip_id3(data: bytes) -> tuple[bytes, bytes]:
    """Split a leading ID3v2 tag (as HLS packed audio starts with) from the audio after it."""
    if len(data) >= 10 and data[:3] == b"ID3":
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        footer = 10 if data[5] & 0x10 else 0
        end = 10 + size + footer
        return data[:end], data[end:]
    return b"", data


def transport_stream_timestamp(id3: bytes) -> int | None:
    """The 33-bit 90 kHz timestamp of HLS packed audio, from its ID3 PRIV frame."""
    owner = b"com.apple.streaming.transportStreamTimestamp\x00"
    at = id3.find(owner)
    if at < 0 or at + len(owner) + 8 > len(id3):
        return None
    value = int.from_bytes(id3[at + len(owner) : at + len(owner) + 8], "big")
    return value & ((1 << 33) - 1)


def make_header(payload_length: int, sample_rate: int, channels: int, profile: int = 1) -> bytes:
    """A 7-byte ADTS header (no CRC) for a raw AAC frame of ``payload_length`` bytes."""
    rate_index = ADTS_SAMPLE_RATES.index(sample_rate)
    frame_length = payload_length + ADTS_HEADER_BYTES
    return bytes(
        (
            0xFF,
            0xF1,
            (profile << 6) | (rate_index << 2) | (channels >> 2),
            ((channels & 0x03) << 6) | (frame_length >> 11),
            (frame_length >> 3) & 0xFF,
            ((frame_length & 0x07) << 5) | 0x1F,
            0xFC,
        )
    )
