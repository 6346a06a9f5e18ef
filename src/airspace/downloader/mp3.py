"""MP3 encoding on every core, joined without seams, with an exact duration.

The recording is cut into chunks whose boundaries fall on MP3 frame boundaries
(counted from the trimmed start). Each chunk is decoded and encoded in its own process:
it starts a few frames early (the encoder and the AAC decoder warm up there) and runs a
few frames late, and only the frames that belong to the chunk are kept. The bit
reservoir is off, so every kept frame stands alone; and as neighbouring chunks encoded
the same audio around each cut, the joined stream decodes without a seam. A Xing/LAME
header at the front carries the frame count, a seek table, and the encoder delay and
padding, so players report, and gapless decoders play, exactly the trimmed audio (the
file itself is written by ``media.mp3_file``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from airspace.downloader.parts import Part, read_parts
from airspace.downloader.segments import read_normalized
from airspace.media.constants import AAC_FRAME_SAMPLES
from airspace.media.mp3_encoders import lame_library, open_mp3_encoder
from airspace.media.mp3_file import (
    DEFAULT_VBR_QUALITY,
    ChunkResult,
    mp3_frame_samples,
)

WARMUP_FRAMES = 3


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
