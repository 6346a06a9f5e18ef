"""Opus for voice: what a speaker sends and hears, 20 ms mono packets at 32 kb/s.

Tracks that hand aiortc ready-made packets skip its own encoder, which sends stereo at
96 kb/s, resampling every frame on the way and encoding on a thread pool. That is
several times the CPU a voice needs, on the sending side and on every receiving one.
Browsers send mono Opus at about this rate too.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import numpy as np

from airspace.media.constants import SAMPLE_RATE
from airspace.media.mixer import FRAME_SAMPLES

VOICE_BIT_RATE = 32_000
TIME_BASE = Fraction(1, SAMPLE_RATE)


class VoiceEncoder:
    """20 ms float frames in, Opus packets out, stamped 20 ms apart from 0."""

    def __init__(self, bit_rate: int = VOICE_BIT_RATE) -> None:
        codec = av.CodecContext.create("libopus", "w")
        assert isinstance(codec, av.AudioCodecContext)
        codec.sample_rate = SAMPLE_RATE
        codec.layout = "mono"
        codec.format = "s16"
        codec.bit_rate = bit_rate
        codec.time_base = TIME_BASE
        codec.options = {"application": "voip", "frame_duration": "20"}
        self._codec = codec
        self._pts = 0
        self._sent = 0

    def encode(self, pcm: np.ndarray) -> list[av.Packet[Any]]:
        samples = np.clip(pcm * 32767.0, -32768, 32767).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._pts
        frame.time_base = TIME_BASE
        self._pts += len(samples)
        packets = list(self._codec.encode(frame))
        for packet in packets:
            # RTP timestamps count from the first packet sent.
            packet.pts = self._sent
            packet.time_base = TIME_BASE
            self._sent += FRAME_SAMPLES
        return packets
