"""libopus called directly: voice survives a round trip, settings take effect, and a
corrupt packet is an error, not a crash."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest

from airspace.media.libopus import OpusDecoder, OpusEncoder, OpusError
from tests.audio import best_lag, tone_bursts

RATE = 48_000
FRAME = 960


def round_trip(pcm: np.ndarray, encoder: OpusEncoder) -> tuple[list[bytes], np.ndarray]:
    decoder = OpusDecoder(RATE)
    packets = [encoder.encode(pcm[i : i + FRAME]) for i in range(0, len(pcm), FRAME)]
    return packets, np.concatenate([decoder.decode(p) for p in packets])


def test_voice_comes_back_as_it_went_in() -> None:
    pcm = tone_bursts(3.0)
    packets, decoded = round_trip(pcm, OpusEncoder(RATE, 32_000, complexity=4))
    assert len(decoded) == len(pcm)
    assert all(p[0] & 0x04 == 0 for p in packets)  # TOC byte: mono
    lag, correlation = best_lag(pcm[FRAME:], decoded[FRAME:], max_lag=1000)
    assert 0 < lag < 1000  # libopus's algorithmic delay
    assert correlation > 0.9
    bits_per_second = sum(map(len, packets)) * 8 / 3.0
    assert 20_000 < bits_per_second < 40_000


def test_bit_rate_and_complexity_change_the_stream() -> None:
    pcm = tone_bursts(2.0, seed=3)
    low, _ = round_trip(pcm, OpusEncoder(RATE, 16_000))
    high, _ = round_trip(pcm, OpusEncoder(RATE, 64_000))
    assert sum(map(len, high)) > 2.5 * sum(map(len, low))
    simple, _ = round_trip(pcm, OpusEncoder(RATE, 32_000, complexity=0))
    careful, _ = round_trip(pcm, OpusEncoder(RATE, 32_000, complexity=10))
    assert simple != careful


def test_a_stereo_packet_decodes_to_mono() -> None:
    codec = av.CodecContext.create("libopus", "w")
    assert isinstance(codec, av.AudioCodecContext)
    codec.sample_rate, codec.layout, codec.format = RATE, "stereo", "s16"
    codec.time_base = Fraction(1, RATE)
    pcm = tone_bursts(1.0, seed=5)
    stereo = (np.repeat(pcm[:, None], 2, axis=1) * 32767).astype(np.int16)
    decoder, decoded = OpusDecoder(RATE), []
    for n, start in enumerate(range(0, len(pcm), FRAME)):
        frame = av.AudioFrame.from_ndarray(
            stereo[start : start + FRAME].reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate, frame.pts = RATE, n * FRAME
        for packet in codec.encode(frame):
            assert bytes(packet)[0] & 0x04  # TOC byte: stereo
            decoded.append(decoder.decode(bytes(packet)))
    audio = np.concatenate(decoded)
    assert audio.ndim == 1
    assert len(audio) >= len(pcm) - 2 * FRAME
    assert best_lag(pcm[FRAME:], audio[FRAME:], max_lag=1000)[1] > 0.9


def test_a_corrupt_packet_is_an_error_and_the_decoder_goes_on() -> None:
    encoder, decoder = OpusEncoder(RATE, 32_000), OpusDecoder(RATE)
    pcm = tone_bursts(0.2)
    good = [encoder.encode(pcm[i : i + FRAME]) for i in range(0, len(pcm), FRAME)]
    with pytest.raises(OpusError, match=r"corrupted|invalid"):
        decoder.decode(bytes([0xFF, 0xFF]) + b"\x00" * 3)  # code 3 with no frame count
    assert len(decoder.decode(good[0])) == FRAME


def test_frames_opus_cannot_take_are_refused() -> None:
    with pytest.raises(OpusError, match="invalid argument"):
        OpusEncoder(RATE, 32_000).encode(np.zeros(1000, dtype=np.float32))
    with pytest.raises(OpusError):
        OpusEncoder(44_100, 32_000)
