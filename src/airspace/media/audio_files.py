"""Audio files from a Space's audio — the one output component that recordings'
renditions, clips and audiograms write through: M4A (the recording's own AAC remuxed,
or decoded audio encoded by FFmpeg), MP3 (LAME, with a gapless header) and WAV, each
exactly as long as the audio given, then tagged (``media.tags``) in the same place.
Decoded audio is 48 kHz mono float32, in blocks of any length."""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from airspace.media.constants import SAMPLE_RATE
from airspace.media.mp3_encoders import open_mp3_encoder
from airspace.media.mp3_file import DEFAULT_VBR_QUALITY, ChunkResult, Mp3Writer
from airspace.media.mp4 import Mp4AudioWriter
from airspace.media.tags import FileTags, write_tags

AAC_BIT_RATE = 96_000
TAG_SPACE = 1024
"""Room left in an M4A's index for its tags (a larger cover moves the media once)."""
FRAME_SAMPLES = 1024
"""What the AAC encoder takes at a time."""


def aac_frames(pcm: np.ndarray) -> Iterator[av.AudioFrame]:
    """``pcm`` as audio frames for the AAC encoder, with their timestamps."""
    for start in range(0, len(pcm), FRAME_SAMPLES):
        block = np.ascontiguousarray(pcm[start : start + FRAME_SAMPLES], dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(block.reshape(1, -1), format="fltp", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = start
        frame.time_base = Fraction(1, SAMPLE_RATE)
        yield frame


def encode_aac(pcm: np.ndarray) -> tuple[bytes, list[bytes], int]:
    """``pcm`` encoded to raw AAC frames: the decoder configuration, the frames, and how
    many priming samples the encoder put in front."""
    codec = av.CodecContext.create("aac", "w")
    assert isinstance(codec, av.AudioCodecContext)
    codec.sample_rate = SAMPLE_RATE
    codec.layout = "mono"
    codec.format = "fltp"
    codec.bit_rate = AAC_BIT_RATE
    codec.open()
    frames: list[bytes] = []
    for frame in aac_frames(pcm):
        frames.extend(bytes(packet) for packet in codec.encode(frame))
    frames.extend(bytes(packet) for packet in codec.encode(None))
    priming = int(getattr(codec, "initial_padding", 0) or FRAME_SAMPLES)
    return bytes(codec.extradata or b""), frames, priming


def write_m4a(pcm: np.ndarray, path: Path) -> None:
    """An M4A of ``pcm`` whose edit list hides the encoder's priming and padding, so it
    decodes to exactly ``len(pcm)`` samples."""
    config, frames, priming = encode_aac(pcm)
    writer = Mp4AudioWriter(path, config, SAMPLE_RATE, 1, expected_frames=len(frames))
    writer.add(frames)
    writer.finish(priming, len(pcm))


def write_aac_m4a(
    path: Path,
    config: bytes,
    batches: Iterable[list[bytes]],
    *,
    skip_samples: int,
    expected_frames: int,
    chapters: Sequence[tuple[float, str]] = (),
    progress: Callable[[int], None] = lambda _: None,
) -> None:
    """An M4A of raw AAC frames (``config``: their decoder configuration) that arrive in
    batches, the first ``skip_samples`` edited out; ``progress`` hears each batch's number."""
    writer = Mp4AudioWriter(
        path,
        config,
        SAMPLE_RATE,
        1,
        expected_frames=expected_frames,
        tag_space=TAG_SPACE,
        chapters=chapters,
    )
    try:
        for number, batch in enumerate(batches):
            writer.add(batch)
            progress(number)
    except BaseException:
        writer.abort()
        raise
    if not writer.frames:
        writer.abort()
        raise ValueError("the recording holds no audio")
    writer.finish(skip_samples)


def write_mp3(blocks: Iterable[np.ndarray], path: Path) -> None:
    """An MP3 of the audio in ``blocks`` whose LAME header gives players its exact length."""
    encoder = open_mp3_encoder(SAMPLE_RATE, 1, DEFAULT_VBR_QUALITY)
    frames: list[bytes] = []
    samples = 0
    for block in blocks:
        samples += len(block)
        pcm = np.ascontiguousarray(block, dtype=np.float32).reshape(1, -1)
        frames.extend(encoder.encode(pcm))
    frames.extend(encoder.flush())
    writer = Mp3Writer(path, SAMPLE_RATE, 1, DEFAULT_VBR_QUALITY)
    writer.add(0, ChunkResult(frames, encoder.delay, 0))
    writer.finish(samples)


def write_wav(blocks: Iterable[np.ndarray], path: Path) -> None:
    """16-bit PCM WAV of the audio in ``blocks``, written as they come."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        for block in blocks:
            out.writeframes((np.clip(block, -1.0, 1.0) * 32767).astype("<i2").tobytes())


def finish(path: Path, fmt: str, tags: FileTags, seconds: float) -> None:
    """Tag a file just written (``seconds`` ends its last chapter)."""
    write_tags(path, fmt, tags, seconds)
