"""The voice encoder: steady silence (what a lone speaker hears) is sent without being
encoded again, and what it sends still decodes to what went in."""

from __future__ import annotations

import numpy as np

from airspace.media.libopus import OpusDecoder
from airspace.media.mixer import FRAME_SAMPLES
from airspace.media.opus import MIX_COMPLEXITY, VoiceEncoder
from tests.audio import best_lag, tone_bursts

RATE = 48_000


def test_steady_silence_skips_the_codec_and_decodes_to_silence_then_voice() -> None:
    voice, silence = tone_bursts(2.0), np.zeros(RATE * 4, dtype=np.float32)
    pcm = np.concatenate([voice, silence, voice])
    encoder, decoder = VoiceEncoder(MIX_COMPLEXITY), OpusDecoder(RATE)
    frames = [pcm[i : i + FRAME_SAMPLES] for i in range(0, len(pcm), FRAME_SAMPLES)]
    decoded = np.concatenate([decoder.decode(bytes(encoder.encode(f))) for f in frames])
    assert encoder.encoded < len(frames) - 150  # most of the 4 s of silence skipped it
    quiet = decoded[len(voice) + RATE // 2 : len(voice) + len(silence)]
    assert float(np.abs(quiet).max()) < 1e-3
    after = decoded[len(voice) + len(silence) :]
    _, correlation = best_lag(voice[FRAME_SAMPLES:], after[FRAME_SAMPLES:], max_lag=1000)
    assert correlation > 0.9  # the voice after the silence comes through as before


def test_fec_follows_the_measured_loss_unless_red_carries_each_packet_again() -> None:
    encoder = VoiceEncoder(MIX_COMPLEXITY)
    encoder.protect_measured(0.05)
    assert encoder.loss_percent == 10  # twice the loss measured
    encoder.protect_measured(0.0)
    assert encoder.loss_percent == 1  # never off: a loss comes before it is measured
    encoder.protect_measured(0.05, red=True)
    assert encoder.loss_percent == 1  # FEC only for the first of two lost in a row
