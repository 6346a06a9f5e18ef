"""MP3 encoding on every core, joined without seams, with an exact duration.

The recording is cut into chunks whose boundaries fall on MP3 frame boundaries
(counted from the trimmed start). Each chunk is decoded and encoded in its own process:
it starts a few frames early (the encoder and the AAC decoder warm up there) and runs a
few frames late, and only the frames that belong to the chunk are kept. The bit
reservoir is off, so every kept frame stands alone; and as neighbouring chunks encoded
the same audio around each cut, the joined stream decodes without a seam. A Xing/LAME
header at the front carries the frame count, a seek table, and the encoder delay and
padding, so players report, and gapless decoders play, exactly the trimmed audio.
"""

from __future__ import annotations

import struct
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from airspace.downloader.parts import Part, read_parts
from airspace.downloader.segments import read_normalized
from airspace.media.constants import AAC_FRAME_SAMPLES
from airspace.media.mp3_encoders import DECODER_DELAY, lame_library, open_mp3_encoder

WARMUP_FRAMES = 3
DEFAULT_VBR_QUALITY = 5


@dataclass(frozen=True)
class ChunkJob:
    """One chunk for a worker process. Sample positions count from the playlist's start."""

    parts: tuple[Part, ...]
    """Parts (ADTS frames) to decode, from one segment before the input on."""
    parts_start: int
    """Where the first part's audio begins."""
    input_start: int
    input_end: int
    keep_first: int
    """Index of the first MP3 frame to keep."""
    keep_count: int | None
    """How many frames to keep; None keeps all to the end (the last chunk)."""
    sample_rate: int
    channels: int
    quality: int = DEFAULT_VBR_QUALITY


@dataclass(frozen=True)
class ChunkResult:
    frames: list[bytes]
    encoder_delay: int
    """Samples between the encoder's input and its decoded output (decoder delay included)."""
    damaged_aac_frames: int


def mp3_frame_samples(sample_rate: int) -> int:
    return 1152 if sample_rate >= 32000 else 576


class ChunkPlanner:
    """Cuts ``[trim_start, end)`` into chunks of about ``chunk_seconds`` as parts arrive.

    Parts are fed in order; a chunk is planned as soon as the parts it reads are known,
    so encoding starts while later segments are still downloading.
    """

    def __init__(
        self,
        trim_start: int,
        sample_rate: int,
        channels: int,
        chunk_seconds: float,
        quality: int = DEFAULT_VBR_QUALITY,
    ) -> None:
        self.trim_start = trim_start
        self.sample_rate = sample_rate
        self.channels = channels
        self.quality = quality
        self.frame_samples = mp3_frame_samples(sample_rate)
        self.frames_per_chunk = max(1, round(chunk_seconds * sample_rate / self.frame_samples))
        self.chunk_length = self.frames_per_chunk * self.frame_samples
        self.warmup = WARMUP_FRAMES * self.frame_samples
        self.parts: list[Part] = []
        self.starts: list[int] = [0]
        self.cut = trim_start
        self.planned = 0

    @property
    def total(self) -> int:
        return self.starts[-1]

    @property
    def output_samples(self) -> int:
        return max(0, self.total - self.trim_start)

    def feed(self, part: Part, samples: int) -> list[ChunkJob]:
        """Add the next part; returns the chunks that can now be encoded."""
        self.parts.append(part)
        self.starts.append(self.total + samples)
        jobs = []
        # A chunk is planned once a whole part lies beyond its post-roll: it never ends early.
        while self.cut + self.chunk_length + self.warmup < self.starts[-2]:
            jobs.append(self._job(last=False))
        return jobs

    def finish(self) -> list[ChunkJob]:
        """The remaining chunks, once every part has been fed."""
        jobs = []
        while self.cut + self.chunk_length < self.total:
            jobs.append(self._job(last=False))
        if self.planned == 0 or self.cut < self.total:
            jobs.append(self._job(last=True))
        return jobs

    def _job(self, *, last: bool) -> ChunkJob:
        warmup = 0 if self.cut == self.trim_start else self.warmup
        input_start = self.cut - warmup
        input_end = (
            self.total if last else min(self.total, self.cut + self.chunk_length + self.warmup)
        )
        first = max(0, bisect_right(self.starts, input_start) - 2)
        stop = bisect_left(self.starts, input_end)
        job = ChunkJob(
            parts=tuple(self.parts[first:stop]),
            parts_start=self.starts[first],
            input_start=input_start,
            input_end=input_end,
            keep_first=warmup // self.frame_samples,
            keep_count=None if last else self.frames_per_chunk,
            sample_rate=self.sample_rate,
            channels=self.channels,
            quality=self.quality,
        )
        self.cut += self.chunk_length
        self.planned += 1
        return job


def _decode_parts(job: ChunkJob) -> tuple[np.ndarray, int]:
    """PCM (channels x samples, float32) of the job's parts; and the count of damaged frames.

    Each decoded frame is copied straight from its planes into one array (the decoder
    gives planar float), which costs a fraction of converting frame by frame.
    """
    import av  # in the encoding processes only (warm_up loads it early)

    frames = [f for data in read_parts(job.parts) for f in read_normalized(data).frames]
    pcm = np.zeros((job.channels, len(frames) * AAC_FRAME_SAMPLES), dtype=np.float32)
    decoder = av.CodecContext.create("aac", "r")
    damaged = 0
    for index, frame_bytes in enumerate(frames):
        try:
            decoded = decoder.decode(av.Packet(frame_bytes))
        except av.FFmpegError:
            decoded = []
        if len(decoded) != 1 or decoded[0].samples != AAC_FRAME_SAMPLES:
            damaged += 1  # a frame that does not decode keeps its place, as silence
            continue
        frame = decoded[0]
        start = index * AAC_FRAME_SAMPLES
        if frame.format.name == "fltp":
            for channel in range(job.channels):
                plane = frame.planes[min(channel, len(frame.planes) - 1)]
                pcm[channel, start : start + AAC_FRAME_SAMPLES] = np.frombuffer(
                    memoryview(plane), dtype=np.float32, count=AAC_FRAME_SAMPLES
                )
        else:
            array = frame.to_ndarray().astype(np.float32, copy=False)
            pcm[:, start : start + AAC_FRAME_SAMPLES] = array[: job.channels]
    return pcm, damaged


def warm_up() -> None:
    """Load the MP3 encoder and the AAC decoder in a worker process before the first
    chunk needs them."""
    import av  # noqa: F401

    lame_library()


def encode_chunk(job: ChunkJob) -> ChunkResult:
    """Decode and encode one chunk (runs in a worker process)."""
    pcm, damaged = _decode_parts(job)
    begin = job.input_start - job.parts_start
    end = job.input_end - job.parts_start
    pcm = pcm[:, begin:end]
    encoder = open_mp3_encoder(job.sample_rate, job.channels, job.quality)
    frames: list[bytes] = []
    step = 1152 * 64
    for offset in range(0, pcm.shape[1], step):
        frames.extend(encoder.encode(pcm[:, offset : offset + step]))
    frames.extend(encoder.flush())
    stop = None if job.keep_count is None else job.keep_first + job.keep_count
    kept = frames[job.keep_first : stop]
    if job.keep_count is not None and len(kept) != job.keep_count:
        raise RuntimeError(f"chunk encoded {len(kept)} frames, expected {job.keep_count}")
    return ChunkResult(kept, encoder.delay, damaged)


# --- Xing / LAME header -------------------------------------------------------------

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
