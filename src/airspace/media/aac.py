"""AAC-LC encoding of PCM into ADTS frames."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import av
import numpy as np

from airspace.media.adts import make_header
from airspace.media.constants import AAC_BIT_RATE, AAC_FRAME_SAMPLES, CHANNELS, SAMPLE_RATE


class AacEncoder:
    """A continuous AAC-LC encoder: PCM in (float32, channels x samples), ADTS frames out.

    Output frames are numbered from the first input sample, so frame ``n`` holds audio
    starting at sample ``n * 1024`` (the encoder's priming frame is dropped).
    """

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        channels: int = CHANNELS,
        bit_rate: int = AAC_BIT_RATE,
    ) -> None:
        self.sample_rate = sample_rate
        self.channels = channels
        self.layout = "mono" if channels == 1 else "stereo"
        codec = av.CodecContext.create("aac", "w")
        assert isinstance(codec, av.AudioCodecContext)
        codec.sample_rate = sample_rate
        codec.layout = self.layout
        codec.format = "fltp"
        codec.bit_rate = bit_rate
        codec.open()
        self._codec = codec
        self._pts = 0
        self._skip = 1  # the priming frame
        self._emitted = 0

    def _frames(self, packets: Sequence[av.Packet[Any]]) -> list[bytes]:
        out = []
        for packet in packets:
            if self._skip:
                self._skip -= 1
                continue
            raw = bytes(packet)
            self._emitted += 1
            out.append(make_header(len(raw), self.sample_rate, self.channels) + raw)
        return out

    def encode(self, pcm: np.ndarray) -> list[bytes]:
        """Encode the next samples; returns the frames completed so far."""
        if pcm.ndim == 1:
            pcm = pcm.reshape(1, -1)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(pcm, dtype=np.float32), format="fltp", layout=self.layout
        )
        frame.sample_rate = self.sample_rate
        frame.pts = self._pts
        frame.time_base = Fraction(1, self.sample_rate)
        self._pts += pcm.shape[1]
        return self._frames(self._codec.encode(frame))

    def flush(self) -> list[bytes]:
        """The last frames; the final one is padded with silence to a whole frame."""
        remainder = self._pts % AAC_FRAME_SAMPLES
        frames = []
        if remainder:
            frames += self.encode(np.zeros((self.channels, AAC_FRAME_SAMPLES - remainder)))
        frames += self._frames(self._codec.encode(None))
        excess = self._emitted - self._pts // AAC_FRAME_SAMPLES
        if excess > 0:
            del frames[-excess:]
            self._emitted -= excess
        return frames
