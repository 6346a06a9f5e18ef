"""Media constants shared by the live path, replays and the downloader."""

from __future__ import annotations

from fractions import Fraction

SAMPLE_RATE = 48_000
CHANNELS = 1
AAC_FRAME_SAMPLES = 1024
MP3_FRAME_SAMPLES = 1152
AAC_BIT_RATE = 64_000
SEGMENT_SECONDS = 2.0
MPEGTS_CLOCK = 90_000
TIME_BASE = Fraction(1, SAMPLE_RATE)


def samples_to_seconds(samples: int, sample_rate: int = SAMPLE_RATE) -> float:
    return samples / sample_rate


def seconds_to_samples(seconds: float, sample_rate: int = SAMPLE_RATE) -> int:
    return round(seconds * sample_rate)
