"""A small MPEG-TS reader: the ADTS AAC elementary stream of a segment, without FFmpeg.

HLS audio segments are simple (one program, one AAC stream), and reading them here is
several times faster than opening each with a demuxer.
"""

from __future__ import annotations

PACKET = 188
SYNC = 0x47
STREAM_TYPE_ADTS_AAC = 0x0F


class TransportStreamError(ValueError):
    """Not a transport stream this reader understands (callers may fall back to FFmpeg)."""


def _section(payload: bytes) -> bytes:
    pointer = payload[0]
    return payload[1 + pointer :]


def _program_map_pid(section: bytes) -> int | None:
    length = ((section[1] & 0x0F) << 8) | section[2]
    end = min(len(section), 3 + length - 4)
    for at in range(8, end - 3, 4):
        program = (section[at] << 8) | section[at + 1]
        if program != 0:
            return ((section[at + 2] & 0x1F) << 8) | section[at + 3]
    return None


def _audio_pid(section: bytes) -> int:
    length = ((section[1] & 0x0F) << 8) | section[2]
    end = min(len(section), 3 + length - 4)
    at = 12 + (((section[10] & 0x0F) << 8) | section[11])
    while at + 5 <= end:
        stream_type = section[at]
        pid = ((section[at + 1] & 0x1F) << 8) | section[at + 2]
        if stream_type == STREAM_TYPE_ADTS_AAC:
            return pid
        at += 5 + (((section[at + 3] & 0x0F) << 8) | section[at + 4])
    raise TransportStreamError("no ADTS AAC stream in the program")


def adts_stream(data: bytes) -> bytes:
    """The bytes of the segment's ADTS AAC stream, PES headers removed."""
    if len(data) % PACKET:
        data = data[: len(data) - len(data) % PACKET]
    pmt_pid: int | None = None
    audio_pid: int | None = None
    out: list[bytes] = []
    for offset in range(0, len(data), PACKET):
        if data[offset] != SYNC:
            raise TransportStreamError(f"lost sync at byte {offset}")
        flags = data[offset + 1]
        starts_unit = flags & 0x40
        pid = ((flags & 0x1F) << 8) | data[offset + 2]
        control = (data[offset + 3] >> 4) & 0x3
        at = offset + 4
        if control & 0x2:
            at += 1 + data[at]
        if not control & 0x1 or at >= offset + PACKET:
            continue
        payload = data[at : offset + PACKET]
        if pid == audio_pid:
            if starts_unit:
                if payload[:3] != b"\x00\x00\x01":
                    raise TransportStreamError("a PES packet without a start code")
                payload = payload[9 + payload[8] :]
            out.append(payload)
        elif pid == 0 and starts_unit:
            pmt_pid = _program_map_pid(_section(payload))
        elif pid == pmt_pid and starts_unit and audio_pid is None:
            audio_pid = _audio_pid(_section(payload))
    if audio_pid is None:
        raise TransportStreamError("no program map naming an audio stream")
    return b"".join(out)
