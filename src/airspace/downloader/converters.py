"""Converters: turn the ordered segment parts into the output file while they download.

MP3 is encoded in chunks on every core (see ``mp3.py``). M4A and TS are lossless
remuxes of the AAC frames; WAV and Opus decode them. These run in a child process
(``conversion_process.py``), fed the parts in order as they arrive.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import Iterator
from concurrent.futures import Executor
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import numpy as np

from airspace.downloader.conversion_process import ChildConverter, ConversionStats
from airspace.downloader.mp3 import ChunkPlanner, encode_chunk
from airspace.downloader.parts import Part
from airspace.downloader.segments import DamagedSegment
from airspace.media.adts import audio_specific_config, frame_bounds, parse_header
from airspace.media.constants import AAC_FRAME_SAMPLES
from airspace.media.mp3_file import ChunkResult, Mp3Writer
from airspace.media.mp4 import Mp4AudioWriter, frames_with_margin

OPUS_RATE = 48_000
# Room left in an M4A's index for its tags (title, host, date, link), so they are written
# in place instead of moving all the audio after them; a cover is larger and moves it.
MP4_TAG_SPACE = 4096
CONTAINERS = {"m4a": "ipod", "ts": "mpegts"}


class Converter(Protocol):
    def feed(self, part: Part, samples: int) -> None:
        """The next part, in order."""
        ...

    async def finish(self) -> ConversionStats:
        """Wait for the output to be complete."""
        ...

    def abort(self) -> None:
        """Give up: the download failed before the end."""
        ...

    @property
    def converted_seconds(self) -> float:
        """How much of the output is written so far."""
        ...


class Mp3Converter:
    def __init__(
        self,
        output: Path,
        executor: Executor,
        *,
        sample_rate: int,
        channels: int,
        trim_start: int,
        quality: int,
        chunk_seconds: float,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.executor = executor
        self.planner = ChunkPlanner(trim_start, sample_rate, channels, chunk_seconds, quality)
        self.writer = Mp3Writer(output, sample_rate, channels, quality)
        self.tasks: list[asyncio.Future[None]] = []

    def _submit(self, jobs: list) -> None:  # type: ignore[type-arg]
        for job in jobs:
            index = len(self.tasks)
            future = self.loop.run_in_executor(self.executor, encode_chunk, job)
            self.tasks.append(asyncio.ensure_future(self._collect(index, future)))

    async def _collect(self, index: int, future: asyncio.Future[ChunkResult]) -> None:
        self.writer.add(index, await future)

    def feed(self, part: Part, samples: int) -> None:
        self._submit(self.planner.feed(part, samples))

    @property
    def converted_seconds(self) -> float:
        written = len(self.writer.frame_sizes) * self.planner.frame_samples
        return written / self.planner.sample_rate

    async def finish(self) -> ConversionStats:
        self._submit(self.planner.finish())
        try:
            await asyncio.gather(*self.tasks)
        except BaseException:
            self.writer.abort()
            raise
        self.writer.finish(self.planner.output_samples)
        return ConversionStats(self.planner.output_samples, self.writer.damaged_aac_frames)

    def abort(self) -> None:
        for task in self.tasks:
            task.cancel()
        self.writer.abort()


class M4aConverter(ChildConverter):
    """AAC frames into MP4 as they are: no re-encoding. Whole frames before the start are
    left out and the rest of the start is cut by an edit list, so it is exact.

    Works a part at a time: the frames' boundaries are found, and their ADTS headers
    cut out of the part's bytes in one numpy operation."""

    takes_parts = True

    def convert(self, parts: Iterator[bytes]) -> None:
        skip_frames, skip_samples = divmod(self.trim_start, AAC_FRAME_SAMPLES)
        writer: Mp4AudioWriter | None = None
        try:
            for data in parts:
                bounds, header, _ = frame_bounds(data)
                if header is None:
                    raise DamagedSegment("a stored part holds no AAC frames")
                if skip_frames:
                    skipped = min(skip_frames, len(bounds) - 1)
                    skip_frames -= skipped
                    bounds = bounds[skipped:]
                    if len(bounds) < 2:
                        continue
                if writer is None:
                    start = bounds[0]
                    writer = Mp4AudioWriter(
                        self.output,
                        audio_specific_config(data[start : start + header.header_length]),
                        header.sample_rate,
                        header.channels,
                        expected_frames=frames_with_margin(self.expected_samples - self.trim_start),
                        tag_space=MP4_TAG_SPACE,
                    )
                payload, sizes = _without_headers(data, bounds, header.header_length)
                writer.add_joined(payload, sizes)
                self.stats.output_samples = writer.frames * AAC_FRAME_SAMPLES
            if writer is None:
                raise ValueError("nothing to write after the start offset")
            writer.finish(skip_samples)
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        self.stats.output_samples = writer.frames * AAC_FRAME_SAMPLES - skip_samples


def _without_headers(data: bytes, bounds: list[int], header_length: int) -> tuple[bytes, list[int]]:
    """The frames between ``bounds`` with their headers cut out, and each one's size."""
    edges = np.asarray(bounds)
    starts = edges[:-1]
    keep = np.zeros(len(data), dtype=bool)
    keep[edges[0] : edges[-1]] = True
    keep[(starts[:, None] + np.arange(header_length)).ravel()] = False
    payload = np.frombuffer(data, dtype=np.uint8)[keep].tobytes()
    return payload, (np.diff(edges) - header_length).tolist()


class TsConverter(ChildConverter):
    """AAC frames into one MPEG-TS stream, as they are. The start is honoured to the AAC
    frame holding it."""

    def convert(self, frames: Iterator[bytes]) -> None:
        import av  # in the child: the parent process never needs FFmpeg for lossless output

        skip = self.trim_start // AAC_FRAME_SAMPLES
        with av.open(str(self.output), "w", format="mpegts") as container:
            stream = None
            written = 0
            for index, frame in enumerate(frames):
                if index < skip:
                    continue
                header = parse_header(frame)
                if stream is None:
                    stream = container.add_stream("aac", rate=header.sample_rate)
                    stream.codec_context.layout = "mono" if header.channels == 1 else "stereo"
                    stream.codec_context.extradata = audio_specific_config(frame)
                    stream.time_base = time_base = Fraction(1, header.sample_rate)
                packet = av.Packet(frame[header.header_length :])
                packet.pts = packet.dts = written * AAC_FRAME_SAMPLES
                packet.duration = AAC_FRAME_SAMPLES
                packet.time_base = time_base
                packet.stream = stream
                container.mux(packet)
                written += 1
                self.stats.output_samples = written * AAC_FRAME_SAMPLES


class _DecodingConverter(ChildConverter):
    """Decodes to PCM, trims to the exact sample, and hands blocks to ``write``."""

    def pcm(self, frames: Iterator[bytes]) -> Iterator[np.ndarray]:
        import av

        decoder = av.CodecContext.create("aac", "r")
        position = 0
        silence = np.zeros((self.channels, AAC_FRAME_SAMPLES), dtype=np.float32)
        for frame in frames:
            try:
                decoded = decoder.decode(av.Packet(frame))
            except av.FFmpegError:
                decoded = []
            if sum(f.samples for f in decoded) != AAC_FRAME_SAMPLES:
                self.stats.damaged_frames += 1
                blocks = [silence]
            else:
                blocks = [f.to_ndarray()[: self.channels].astype(np.float32) for f in decoded]
            for block in blocks:
                start = max(0, self.trim_start - position)
                position += block.shape[1]
                if start < block.shape[1]:
                    self.stats.output_samples += block.shape[1] - start
                    yield block[:, start:]


class WavConverter(_DecodingConverter):
    def convert(self, frames: Iterator[bytes]) -> None:
        with wave.open(str(self.output), "wb") as out:
            out.setnchannels(self.channels)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            for block in self.pcm(frames):
                samples = np.clip(block.T, -1.0, 1.0)
                out.writeframes((samples * 32767).astype("<i2").tobytes())


class OpusConverter(_DecodingConverter):
    BIT_RATE = 48_000

    def convert(self, frames: Iterator[bytes]) -> None:
        import av

        layout = "mono" if self.channels == 1 else "stereo"
        # Opus runs at 48 kHz; other sources are resampled on the way in.
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=OPUS_RATE)
        with av.open(str(self.output), "w", format="ogg") as container:
            stream = container.add_stream("libopus", rate=OPUS_RATE)
            stream.codec_context.layout = layout
            stream.codec_context.bit_rate = self.BIT_RATE
            position = 0
            for block in self.pcm(frames):
                frame = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(block), format="fltp", layout=layout
                )
                frame.sample_rate = self.sample_rate
                frame.pts = position
                frame.time_base = Fraction(1, self.sample_rate)
                position += block.shape[1]
                for resampled in resampler.resample(frame):
                    for packet in stream.encode(resampled):
                        container.mux(packet)
            for resampled in resampler.resample(None):
                for packet in stream.encode(resampled):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)


def converter_for(
    format: str,
    output: Path,
    *,
    sample_rate: int,
    channels: int,
    trim_start: int,
    expected_samples: int = 0,
    executor: Executor | None = None,
    quality: int = 5,
    chunk_seconds: float = 60.0,
) -> Converter:
    """The converter writing ``format`` to ``output``; MP3 encodes on ``executor``."""
    common = {"sample_rate": sample_rate, "channels": channels, "trim_start": trim_start}
    child = {**common, "expected_samples": expected_samples}
    if format == "mp3":
        if executor is None:
            raise ValueError("MP3 is encoded in worker processes: an executor is needed")
        return Mp3Converter(
            output, executor, quality=quality, chunk_seconds=chunk_seconds, **common
        )
    if format == "m4a":
        return M4aConverter(output, **child)
    if format == "ts":
        return TsConverter(output, **child)
    if format == "wav":
        return WavConverter(output, **child)
    if format == "opus":
        return OpusConverter(output, **child)
    raise ValueError(f"unknown format {format!r}")
