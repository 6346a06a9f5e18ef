"""A small MPEG-TS reader: the ADTS AAC elementary stream of a segment, without FFmpeg.

HLS audio segments are simple (one program, one AAC stream), and reading them here is
several times faster than opening each with a demuxer. ``decode_audio`` is for when the
samples themselves are needed: it decodes a segment with FFmpeg.
"""

from __future__ import annotations

import io

import numpy as np

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
    """The bytes of the segment's ADTS AAC stream, PES headers removed.

    The program tables (a packet or two at the front) are read one by one; every other
    packet header is read with numpy, all packets at once, through strided views of
    ``data`` (no copy).
    """
    usable = len(data) - len(data) % PACKET
    if usable == 0:
        raise TransportStreamError("no transport stream packets")
    count = usable // PACKET
    if data[0:usable:PACKET].count(SYNC) != count:
        raise TransportStreamError("lost sync")
    audio_pid = _audio_pid_from_tables(data, usable)
    packets = np.frombuffer(data, dtype=np.uint8, count=usable).reshape(count, PACKET)
    # Bytes 1-2 of each packet: start-of-unit flag and PID.
    word = np.ndarray((count,), dtype=">u2", buffer=data, offset=1, strides=(PACKET,))
    control = packets[:, 3] >> 4
    rows = np.flatnonzero(((word & 0x1FFF) == audio_pid) & ((control & 1) != 0))
    selected = packets[rows]
    start = np.where(control[rows] & 2, selected[:, 4].astype(np.int16) + 5, 4)
    heads = np.flatnonzero(word[rows] & 0x4000)
    if len(heads):
        at = start[heads]
        if (at > PACKET - 9).any():
            raise TransportStreamError("a PES header split across packets")
        head = selected[heads]
        index = np.arange(len(heads))
        if ((head[index, at] != 0) | (head[index, at + 1] != 0) | (head[index, at + 2] != 1)).any():
            raise TransportStreamError("a PES packet without a start code")
        start[heads] = at + 9 + head[index, at + 8]
        if (start[heads] > PACKET).any():
            raise TransportStreamError("a PES header continued in the next packet")
    # A row whose headers fill the packet contributes nothing.
    return selected[start[:, None] <= _COLUMNS].tobytes()


_COLUMNS = np.arange(PACKET, dtype=np.int16)


def _audio_pid_from_tables(data: bytes, usable: int) -> int:
    """The audio PID named by the first program association table and its program map."""
    map_pid: int | None = None
    for at in range(0, usable, PACKET):
        flags = data[at + 1]
        control = data[at + 3] >> 4
        if not flags & 0x40 or not control & 1:
            continue  # tables start in a unit-start packet with a payload
        pid = ((flags & 0x1F) << 8) | data[at + 2]
        start = at + 4 + (data[at + 4] + 1 if control & 2 else 0)
        if start >= at + PACKET:
            continue
        if pid == 0 and map_pid is None:
            map_pid = _program_map_pid(_section(data[start : at + PACKET]))
            if map_pid is None:
                raise TransportStreamError("no program map naming an audio stream")
        elif map_pid is not None and pid == map_pid:
            return _audio_pid(_section(data[start : at + PACKET]))
    if map_pid is None:
        raise TransportStreamError("no program association table")
    raise TransportStreamError("no program map naming an audio stream")


def decode_audio(data: bytes) -> np.ndarray:
    """A segment's audio decoded by FFmpeg (float32, first channel)."""
    import av  # the reader above works without FFmpeg; only decoding needs it

    with av.open(io.BytesIO(data), mode="r", format="mpegts") as container:
        blocks = [f.to_ndarray()[0].astype(np.float32) for f in container.decode(audio=0)]
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
