"""MP3 files as Airspace writes them: LAME's frames (bit reservoir off, so any run of
them stands alone) behind a Xing/LAME header that carries the frame count, a seek table,
and the encoder delay and padding, so players report, and gapless decoders play,
exactly the audio given. The downloader encodes chunks on every core and joins them
here; renditions and clips encode in one go."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from airspace.media.mp3_encoders import DECODER_DELAY

DEFAULT_VBR_QUALITY = 5


@dataclass(frozen=True)
class ChunkResult:
    frames: list[bytes]
    encoder_delay: int
    """Samples between the encoder's input and its decoded output (decoder delay included)."""
    damaged_aac_frames: int


def mp3_frame_samples(sample_rate: int) -> int:
    return 1152 if sample_rate >= 32000 else 576


_MPEG1_L3_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MPEG2_L3_BITRATES = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATE_INDEX = {44100: 0, 48000: 1, 32000: 2, 22050: 0, 24000: 1, 16000: 2}
XING_BYTES = 120
LAME_BYTES = 36


def _crc16(data: bytes) -> int:
    """CRC-16/ARC, as the LAME tag uses."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def info_frame(
    sample_rate: int,
    channels: int,
    frame_count: int,
    frame_sizes: Sequence[int],
    encoder_delay: int,
    padding: int,
    quality: int,
) -> bytes:
    """An MP3 frame holding the Xing and LAME tags for the audio frames that follow it."""
    mpeg1 = sample_rate >= 32000
    side_info = (32 if channels == 2 else 17) if mpeg1 else (17 if channels == 2 else 9)
    needed = 4 + side_info + XING_BYTES + LAME_BYTES
    bitrates = _MPEG1_L3_BITRATES if mpeg1 else _MPEG2_L3_BITRATES
    coefficient = 144 if mpeg1 else 72
    bitrate_index = next(
        i
        for i, kbps in enumerate(bitrates)
        if kbps and coefficient * kbps * 1000 // sample_rate >= needed
    )
    size = coefficient * bitrates[bitrate_index] * 1000 // sample_rate
    version_bits = 0b11 if mpeg1 else 0b10
    mode = 0b11 if channels == 1 else 0b01
    header = (
        (0x7FF << 21)
        | (version_bits << 19)
        | (0b01 << 17)  # layer III
        | (1 << 16)  # no CRC
        | (bitrate_index << 12)
        | (_RATE_INDEX[sample_rate] << 10)
        | (mode << 6)
    )
    frame = bytearray(size)
    frame[0:4] = header.to_bytes(4, "big")
    at = 4 + side_info
    total_bytes = size + sum(frame_sizes)
    toc = bytearray(100)
    if frame_sizes:
        offsets = np.concatenate(([0], np.cumsum(frame_sizes))) + size
        for percent in range(100):
            position = offsets[min(len(frame_sizes) - 1, percent * len(frame_sizes) // 100)]
            toc[percent] = min(255, int(position * 256 // total_bytes))
    frame[at : at + XING_BYTES] = (
        b"Xing"
        + struct.pack(">I", 0x0F)
        + struct.pack(">I", frame_count)
        + struct.pack(">I", total_bytes)
        + bytes(toc)
        + struct.pack(">I", quality * 10)
    )
    lame = bytearray(LAME_BYTES)
    lame[0:9] = b"LAME3.100"
    lame[9] = 0x04  # tag revision 0, VBR method 4 (vbr-new)
    start_pad = max(0, min(4095, encoder_delay - DECODER_DELAY))
    end_pad = max(0, min(4095, padding))
    lame[21:24] = ((start_pad << 12) | end_pad).to_bytes(3, "big")
    lame[28:32] = struct.pack(">I", total_bytes)
    lame_at = at + XING_BYTES
    frame[lame_at : lame_at + LAME_BYTES] = lame
    crc = _crc16(bytes(frame[: lame_at + LAME_BYTES - 2]))
    frame[lame_at + LAME_BYTES - 2 : lame_at + LAME_BYTES] = crc.to_bytes(2, "big")
    return bytes(frame)


def end_padding(frame_count: int, frame_samples: int, encoder_delay: int, samples: int) -> int:
    """Samples of padding after the audio, as the LAME tag counts them."""
    return frame_count * frame_samples - (encoder_delay - DECODER_DELAY) - samples


class Mp3Writer:
    """Writes chunk results in order as they arrive, then the Xing/LAME header in front."""

    def __init__(self, path: Path, sample_rate: int, channels: int, quality: int) -> None:
        self.path = path
        self.sample_rate = sample_rate
        self.channels = channels
        self.quality = quality
        self.frame_sizes: list[int] = []
        self.encoder_delay = 0
        self.damaged_aac_frames = 0
        self._pending: dict[int, ChunkResult] = {}
        self._next = 0
        self._header_size = len(info_frame(sample_rate, channels, 0, [], 0, 0, quality))
        self._file = path.open("wb")
        self._file.write(bytes(self._header_size))

    def add(self, index: int, result: ChunkResult) -> None:
        self._pending[index] = result
        while self._next in self._pending:
            chunk = self._pending.pop(self._next)
            if self._next == 0:
                self.encoder_delay = chunk.encoder_delay
            self.damaged_aac_frames += chunk.damaged_aac_frames
            for frame in chunk.frames:
                self._file.write(frame)
                self.frame_sizes.append(len(frame))
            self._next += 1

    def finish(self, output_samples: int) -> None:
        spf = mp3_frame_samples(self.sample_rate)
        count = len(self.frame_sizes)
        padding = end_padding(count, spf, self.encoder_delay, output_samples)
        header = info_frame(
            self.sample_rate,
            self.channels,
            count,
            self.frame_sizes,
            self.encoder_delay,
            padding,
            self.quality,
        )
        self._file.seek(0)
        self._file.write(header)
        self._file.close()

    def abort(self) -> None:
        self._file.close()
