"""A small MPEG-TS reader: the ADTS AAC elementary stream of a segment, without FFmpeg.

HLS audio segments are simple (one program, one AAC stream), and reading them here is
several times faster than opening each with a demuxer. ``decode_audio`` is for when the
samples themselves are needed: it decodes a segment with FFmpeg.
"""

from __future__ import annotations

import io

import av
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

    Packet headers are read with numpy, all packets at once; only the program tables
    (a packet or two) are read one by one.
    """
    usable = len(data) - len(data) % PACKET
    if usable == 0:
        raise TransportStreamError("no transport stream packets")
    packets = np.frombuffer(data, dtype=np.uint8, count=usable).reshape(-1, PACKET)
    if (packets[:, 0] != SYNC).any():
        raise TransportStreamError("lost sync")
    pids = ((packets[:, 1].astype(np.int32) & 0x1F) << 8) | packets[:, 2]
    starts_unit = (packets[:, 1] & 0x40) != 0
    control = (packets[:, 3] >> 4) & 0x3
    payload_start = 4 + np.where(control & 0x2, packets[:, 4].astype(np.int32) + 1, 0)
    has_payload = ((control & 0x1) != 0) & (payload_start < PACKET)
    audio_pid = _find_audio_pid(packets, pids, starts_unit, payload_start, has_payload)
    audio = has_payload & (pids == audio_pid)
    rows = np.flatnonzero(audio)
    start = payload_start[rows]
    unit_rows = starts_unit[rows]
    if unit_rows.any():
        heads = rows[unit_rows]
        at = start[unit_rows]
        if (
            (packets[heads, at] != 0)
            | (packets[heads, at + 1] != 0)
            | (packets[heads, at + 2] != 1)
        ).any():
            raise TransportStreamError("a PES packet without a start code")
        start[unit_rows] = at + 9 + packets[heads, np.minimum(at + 8, PACKET - 1)]
    columns = np.arange(PACKET)
    mask = columns[None, :] >= start[:, None]
    return packets[rows][mask].tobytes()


def _find_audio_pid(
    packets: np.ndarray,
    pids: np.ndarray,
    starts_unit: np.ndarray,
    payload_start: np.ndarray,
    has_payload: np.ndarray,
) -> int:
    def payload(row: int) -> bytes:
        return packets[row, payload_start[row] :].tobytes()

    tables = np.flatnonzero((pids == 0) & starts_unit & has_payload)
    if not len(tables):
        raise TransportStreamError("no program association table")
    pmt_pid = _program_map_pid(_section(payload(int(tables[0]))))
    maps = np.flatnonzero((pids == pmt_pid) & starts_unit & has_payload)
    if pmt_pid is None or not len(maps):
        raise TransportStreamError("no program map naming an audio stream")
    return _audio_pid(_section(payload(int(maps[0]))))


def decode_audio(data: bytes) -> np.ndarray:
    """A segment's audio decoded by FFmpeg (float32, first channel)."""
    with av.open(io.BytesIO(data), mode="r", format="mpegts") as container:
        blocks = [f.to_ndarray()[0].astype(np.float32) for f in container.decode(audio=0)]
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
