"""Media constants shared by the live path, replays and the downloader."""

from __future__ import annotations

SAMPLE_RATE = 48_000
CHANNELS = 1
AAC_FRAME_SAMPLES = 1024
MP3_FRAME_SAMPLES = 1152
AAC_BIT_RATE = 64_000
SEGMENT_SECONDS = 2.0
MPEGTS_CLOCK = 90_000
