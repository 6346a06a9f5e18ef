"""An MP4 (M4A) writer for AAC frames: one audio track, no re-encoding, fast start.

The index (``moov``) goes before the media, so players can start before the whole file
is there. A start that falls inside the first frame is kept exact with an edit list.
"""

from __future__ import annotations

import errno
import math
import os
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from airspace.media.constants import AAC_FRAME_SAMPLES

_U32 = 0xFFFFFFFF


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I", 8 + len(body)) + kind + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _descriptor(tag: int, payload: bytes) -> bytes:
    length = len(payload)
    size = bytes(
        (
            (length >> 21) & 0x7F | 0x80,
            (length >> 14) & 0x7F | 0x80,
            (length >> 7) & 0x7F | 0x80,
            length & 0x7F,
        )
    )
    return bytes((tag,)) + size + payload


def _esds(config: bytes, bit_rate: int, max_frame: int) -> bytes:
    decoder_specific = _descriptor(0x05, config)
    decoder_config = _descriptor(
        0x04,
        bytes((0x40, 0x15))
        + max_frame.to_bytes(3, "big")
        + struct.pack(">II", bit_rate, bit_rate)
        + decoder_specific,
    )
    es = _descriptor(0x03, struct.pack(">HB", 1, 0) + decoder_config + _descriptor(0x06, b"\x02"))
    return full_box(b"esds", 0, 0, es)


_FTYP = box(b"ftyp", b"M4A ", struct.pack(">I", 0), b"M4A mp42isom")
_MDAT_HEADER = 16  # the 64-bit form, whose size fits any length
_FREE_HEADER = 8
# The moov's size apart from its tables: a few hundred bytes; this bounds it.
_MOOV_FIXED = 1024


def _free(size: int) -> bytes:
    return struct.pack(">I", size) + b"free" + bytes(size - _FREE_HEADER)


def _mdat_header(media_bytes: int) -> bytes:
    return struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", media_bytes + _MDAT_HEADER)


def _chapter_list(chapters: Sequence[tuple[float, str]]) -> bytes:
    """Nero's chapter list (``chpl``), which FFmpeg, VLC and most podcast apps read:
    start times in 100 ns units and titles of at most 255 bytes."""
    if not chapters:
        return b""
    entries = b""
    for start, title in chapters[:255]:
        name = title.encode()[:255]
        entries += struct.pack(">QB", round(start * 10_000_000), len(name)) + name
    return full_box(b"chpl", 1, 0, bytes(4), struct.pack(">B", min(255, len(chapters))), entries)


def _user_data(tag_space: int, chapters: Sequence[tuple[float, str]]) -> bytes:
    """The ``udta`` box: the chapter list, and an empty iTunes tag list with
    ``tag_space`` bytes of free space after it, where a tag writer (mutagen) puts the
    tags later without moving the media."""
    parts = _chapter_list(chapters)
    if tag_space:
        handler = full_box(b"hdlr", 0, 0, bytes(4), b"mdirappl", bytes(9))
        parts += full_box(b"meta", 0, 0, handler, box(b"ilst"), _free(tag_space))
    return box(b"udta", parts) if parts else b""


def frames_with_margin(samples: int) -> int:
    """``expected_frames`` for about ``samples`` of audio, and then some (playlists round
    their durations); 0 when the length is unknown."""
    if samples <= 0:
        return 0
    return math.ceil(samples * 1.02 / AAC_FRAME_SAMPLES) + 64


class Mp4AudioWriter:
    """Writes ``ftyp``, room for the ``moov`` index, then the media as it comes; ``finish``
    puts the index in that room (so players can start before the whole file is there)
    and fills what is left with a ``free`` box. With no room, or too little (more frames
    than ``expected_frames``), the media is copied once behind an index of the right size.
    """

    def __init__(
        self,
        path: Path,
        config: bytes,
        sample_rate: int,
        channels: int,
        *,
        expected_frames: int = 0,
        tag_space: int = 0,
        chapters: Sequence[tuple[float, str]] = (),
    ) -> None:
        self.path = path
        self.config = config
        self.sample_rate = sample_rate
        self.channels = channels
        self.tag_space = tag_space
        self.chapters = list(chapters)
        self._room = (
            _MOOV_FIXED
            + len(_user_data(tag_space, self.chapters))
            + 4 * expected_frames
            + _FREE_HEADER
            if expected_frames
            else 0
        )
        self._media_start = len(_FTYP) + self._room + _MDAT_HEADER
        self._file = path.open("wb")
        self._file.write(_FTYP + bytes(self._room + _MDAT_HEADER))
        self._sizes: list[int] = []
        self._shown: int | None = None

    def add(self, frames: list[bytes]) -> None:
        """Append raw AAC frames (no ADTS headers)."""
        self._file.write(b"".join(frames))
        self._sizes.extend(len(f) for f in frames)

    def add_joined(self, payload: bytes, sizes: list[int]) -> None:
        """Append raw AAC frames given as one run of bytes and each frame's size."""
        self._file.write(payload)
        self._sizes.extend(sizes)

    @property
    def frames(self) -> int:
        return len(self._sizes)

    def finish(self, skip_samples: int = 0, samples: int | None = None) -> None:
        """Complete the file; the first ``skip_samples`` are edited out, and so is what
        follows the first ``samples`` after them (all of it when None)."""
        sizes = np.asarray(self._sizes, dtype=">u4")
        media_bytes = int(sizes.sum()) if len(sizes) else 0
        self._shown = samples
        moov = self._moov(self._media_start, skip_samples, sizes, media_bytes)
        gap = self._room - len(moov)
        if gap >= _FREE_HEADER:
            self._file.seek(len(_FTYP))
            self._file.write(moov + _free(gap) + _mdat_header(media_bytes))
            self._file.close()
            return
        self._file.close()
        # No room for the index: write it first in a new file and copy the media after it.
        start = len(_FTYP) + len(moov) + _MDAT_HEADER
        while len(moov := self._moov(start, skip_samples, sizes, media_bytes)) != (
            start - len(_FTYP) - _MDAT_HEADER
        ):  # the index grew (64-bit offsets past 4 GiB): place the media after it again
            start = len(_FTYP) + len(moov) + _MDAT_HEADER
        whole = self.path.with_name(self.path.name + ".whole")
        with whole.open("wb") as out, self.path.open("rb") as media:
            out.write(_FTYP + moov + _mdat_header(media_bytes))
            out.flush()
            _copy(media.fileno(), self._media_start, out.fileno(), media_bytes)
        os.replace(whole, self.path)

    def abort(self) -> None:
        self._file.close()
        self.path.unlink(missing_ok=True)

    def _moov(self, data_offset: int, skip: int, sizes: np.ndarray, media_bytes: int) -> bytes:
        rate = self.sample_rate
        media_duration = len(sizes) * AAC_FRAME_SAMPLES
        shown = max(0, media_duration - skip)
        if self._shown is not None:
            shown = min(shown, self._shown)
        version = 1 if media_duration > _U32 else 0

        def times(duration: int) -> bytes:
            if version:
                return struct.pack(">QQIQ", 0, 0, rate, duration)
            return struct.pack(">IIII", 0, 0, rate, duration)

        mvhd = full_box(
            b"mvhd",
            version,
            0,
            times(shown),
            struct.pack(">IH10x", 0x10000, 0x100),
            _MATRIX,
            bytes(24),
            struct.pack(">I", 2),
        )
        if version:
            tkhd_times = struct.pack(">QQI4xQ", 0, 0, 1, shown)
        else:
            tkhd_times = struct.pack(">III4xI", 0, 0, 1, shown)
        tkhd = full_box(
            b"tkhd",
            version,
            7,
            tkhd_times,
            bytes(8),
            struct.pack(">HHH2x", 0, 0, 0x100),
            _MATRIX,
            bytes(8),
        )
        edts = b""
        if skip or shown < media_duration:
            elst = full_box(b"elst", 0, 0, struct.pack(">IIiI", 1, shown, skip, 0x10000))
            edts = box(b"edts", elst)
        mdhd = full_box(b"mdhd", version, 0, times(media_duration), struct.pack(">HH", 0x55C4, 0))
        hdlr = full_box(b"hdlr", 0, 0, bytes(4), b"soun", bytes(12), b"SoundHandler\x00")
        bit_rate = int(media_bytes * 8 * rate / max(1, media_duration))
        mp4a = box(
            b"mp4a",
            bytes(6),
            struct.pack(">H", 1),
            bytes(8),
            struct.pack(">HHHHI", self.channels, 16, 0, 0, rate << 16),
            _esds(self.config, bit_rate, int(sizes.max()) if len(sizes) else 0),
        )
        stsd = full_box(b"stsd", 0, 0, struct.pack(">I", 1), mp4a)
        stts = full_box(b"stts", 0, 0, struct.pack(">III", 1, len(sizes), AAC_FRAME_SAMPLES))
        stsc = full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, max(1, len(sizes)), 1))
        stsz = full_box(b"stsz", 0, 0, struct.pack(">II", 0, len(sizes)), sizes.tobytes())
        if data_offset + media_bytes > _U32:
            chunk_offsets = full_box(b"co64", 0, 0, struct.pack(">IQ", 1, data_offset))
        else:
            chunk_offsets = full_box(b"stco", 0, 0, struct.pack(">II", 1, data_offset))
        stbl = box(b"stbl", stsd, stts, stsc, stsz, chunk_offsets)
        dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
        minf = box(b"minf", full_box(b"smhd", 0, 0, bytes(4)), dinf, stbl)
        trak = box(b"trak", tkhd, edts, box(b"mdia", mdhd, hdlr, minf))
        return box(b"moov", mvhd, trak, _user_data(self.tag_space, self.chapters))


def _copy(source: int, offset: int, target: int, length: int) -> None:
    """``length`` bytes of ``source`` from ``offset`` to ``target``'s position: in the
    kernel where the file system can, else through a buffer."""
    while length:
        try:
            copied = os.copy_file_range(source, target, length, offset)
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
                raise
            copied = os.write(target, os.pread(source, min(length, 1 << 20), offset))
        if not copied:
            raise OSError("the media ended early")
        offset += copied
        length -= copied
