"""Files made from decoded audio (48 kHz mono float32): M4A with AAC encoded by FFmpeg,
and MP3 encoded by LAME with a gapless header, each exactly as long as the samples
given. Clips and audiograms are cut to the sample, so they are made from PCM."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from airspace.downloader.mp3 import DEFAULT_VBR_QUALITY, ChunkResult, Mp3Writer
from airspace.media.constants import SAMPLE_RATE
from airspace.media.mp3_encoders import open_mp3_encoder
from airspace.media.mp4 import Mp4AudioWriter

AAC_BIT_RATE = 96_000
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


def write_mp3(pcm: np.ndarray, path: Path) -> None:
    """An MP3 of ``pcm`` whose LAME header gives players the exact length."""
    encoder = open_mp3_encoder(SAMPLE_RATE, 1, DEFAULT_VBR_QUALITY)
    frames = list(encoder.encode(np.ascontiguousarray(pcm, dtype=np.float32).reshape(1, -1)))
    frames.extend(encoder.flush())
    writer = Mp3Writer(path, SAMPLE_RATE, 1, DEFAULT_VBR_QUALITY)
    writer.add(0, ChunkResult(frames, encoder.delay, 0))
    writer.finish(len(pcm))
