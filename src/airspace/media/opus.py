"""Opus for voice: what a speaker sends and hears, 20 ms mono packets at 32 kb/s.

Tracks that hand aiortc ready-made packets skip its own encoder, which sends stereo at
96 kb/s, resampling every frame on the way and encoding on a thread pool. That is
several times the CPU a voice needs, on the sending side and on every receiving one.
Browsers send mono Opus at about this rate too.

Encoding is most of what a speaker leg costs the server, so the mixes sent back to
speakers use complexity 4, as Janus's AudioBridge does by default: on speech at 32 kb/s
mono that takes about half the time of libopus's default 10, for nearly the same
result (``bench/opus_complexity.py``, docs/PERFORMANCE.md). A microphone
(``airspace.media.peer``) encodes at 9, as desktop browsers do.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av
import numpy as np

from airspace.media.constants import SAMPLE_RATE
from airspace.media.libopus import OpusEncoder
from airspace.media.mixer import FRAME_SAMPLES

VOICE_BIT_RATE = 32_000
PROTECTED_BIT_RATE = 48_000
"""The rate while FEC is carried: the copy of the previous frame takes about a third of
the bits, and at 32 kb/s the voice itself would lose a quarter of a PESQ point
(``bench/network.py``)."""
MIX_COMPLEXITY = 4
MICROPHONE_COMPLEXITY = 9
TIME_BASE = Fraction(1, SAMPLE_RATE)


class VoiceEncoder:
    """20 ms float frames in, Opus packets out, stamped 20 ms apart from 0."""

    def __init__(
        self, complexity: int, bit_rate: int = VOICE_BIT_RATE, *, dtx: bool = False
    ) -> None:
        self._encoder = OpusEncoder(SAMPLE_RATE, bit_rate, complexity=complexity)
        self.bit_rate = bit_rate
        self.dtx = dtx
        if dtx:
            self._encoder.set_dtx(True)
        self.loss_percent = 0
        self._sent = 0
        self._last_silent: bytes | None = None
        self._steady_silence: bytes | None = None
        self.encoded = 0
        """Frames the codec actually encoded (steady silence is sent without it)."""

    def protect(self, loss_percent: float) -> None:
        """Carry in-band FEC for a path losing ``loss_percent`` % of packets (as a
        browser does from what the other side reports); 0 turns it off."""
        percent = int(min(100.0, max(0.0, loss_percent)) + 0.999)
        self._set_protection(percent)

    def protect_measured(self, lost_fraction: float, red: bool = False) -> None:
        """FEC for a path measured to lose ``lost_fraction`` of packets: sized for twice
        that (losses come and go; a copy a little too good costs a few bits, one too
        coarse is heard), and never off (a loss comes before it can be measured).

        With ``red`` (each packet also sent whole in the next, ``airspace.media.opus_red``)
        FEC is only for the first of two packets lost in a row: it is kept at its
        lowest, and the bits go to the voice (PESQ 0.1-0.2 higher at 5 % loss than at
        twice the loss, ``bench/network.py``)."""
        self.protect(1.0 if red else max(1.0, 200 * lost_fraction))

    def _set_protection(self, percent: int) -> None:
        if percent != self.loss_percent:
            self._encoder.set_loss_protection(percent)
            if (percent > 0) != (self.loss_percent > 0):
                rate = max(self.bit_rate, PROTECTED_BIT_RATE) if percent else self.bit_rate
                self._encoder.set_bit_rate(rate)
            self.loss_percent = percent

    def encode(self, pcm: np.ndarray) -> av.Packet[Any]:
        """The packet for one frame of FRAME_SAMPLES float32 mono samples in [-1, 1]."""
        packet = av.Packet(self.payload(pcm))
        # RTP timestamps count from the first packet sent.
        packet.pts = self._sent
        packet.time_base = TIME_BASE
        self._sent += FRAME_SAMPLES
        return packet

    @property
    def steady_silence(self) -> bytes | None:
        """The packet repeated while silence is steady (None while it is not)."""
        return self._steady_silence

    def payload(self, pcm: np.ndarray) -> bytes:
        """Digital silence (what a lone speaker hears) is most of a room's return
        frames: once the codec has given the same packet for two silent frames running,
        its state is steady, and that packet is sent again without encoding, until
        sound comes back (encoded from that same steady state)."""
        if pcm.any() or self.dtx:
            self._last_silent = self._steady_silence = None
        elif self._steady_silence is not None:
            return self._steady_silence
        payload = self._encoder.encode(pcm)
        self.encoded += 1
        if not pcm.any():
            if payload == self._last_silent:
                self._steady_silence = payload
            self._last_silent = payload
        return payload
