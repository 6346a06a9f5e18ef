"""An MP4 (M4A) writer for AAC frames: one audio track, no re-encoding, fast start.

AAC frames are appended to a side file as they come; ``finish`` writes ``ftyp``, the
``moov`` index (placed first, so players can start before the whole file is there) and
the media data. A start that falls inside the first frame is kept exact with an edit list.
"""

from __future__ import annotations

import shutil
import struct
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


class Mp4AudioWriter:
    def __init__(self, path: Path, config: bytes, sample_rate: int, channels: int) -> None:
        self.path = path
        self.config = config
        self.sample_rate = sample_rate
        self.channels = channels
        self._media_path = path.with_name(path.name + ".media")
        self._media = self._media_path.open("wb")
        self._sizes: list[int] = []

    def add(self, frames: list[bytes]) -> None:
        """Append raw AAC frames (no ADTS headers)."""
        self._media.write(b"".join(frames))
        self._sizes.extend(len(f) for f in frames)

    def add_joined(self, payload: bytes, sizes: list[int]) -> None:
        """Append raw AAC frames given as one run of bytes and each frame's size."""
        self._media.write(payload)
        self._sizes.extend(sizes)

    @property
    def frames(self) -> int:
        return len(self._sizes)

    def finish(self, skip_samples: int = 0) -> None:
        """Write the file; the first ``skip_samples`` (< one frame) are edited out."""
        self._media.close()
        sizes = np.asarray(self._sizes, dtype=">u4")
        media_bytes = int(sizes.sum()) if len(sizes) else 0
        ftyp = box(b"ftyp", b"M4A ", struct.pack(">I", 0), b"M4A mp42isom")
        large = media_bytes + 16 > _U32
        mdat_header = (
            struct.pack(">I", 1) + b"mdat" + struct.pack(">Q", media_bytes + 16)
            if large
            else struct.pack(">I", media_bytes + 8) + b"mdat"
        )
        # The moov's size does not depend on the offset it holds, so measure it once.
        moov = self._moov(0, skip_samples, sizes, media_bytes)
        offset = len(ftyp) + len(moov) + len(mdat_header)
        moov = self._moov(offset, skip_samples, sizes, media_bytes)
        with self.path.open("wb") as out, self._media_path.open("rb") as media:
            out.write(ftyp + moov + mdat_header)
            shutil.copyfileobj(media, out, 1 << 20)
        self._media_path.unlink()

    def abort(self) -> None:
        self._media.close()
        self._media_path.unlink(missing_ok=True)

    def _moov(self, data_offset: int, skip: int, sizes: np.ndarray, media_bytes: int) -> bytes:
        rate = self.sample_rate
        media_duration = len(sizes) * AAC_FRAME_SAMPLES
        shown = max(0, media_duration - skip)
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
        if skip:
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
        return box(b"moov", mvhd, trak)
