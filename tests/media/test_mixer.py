from __future__ import annotations

import numpy as np

from airspace.media.mixer import FRAME_SAMPLES, HEADROOM, mix_minus_one, mix_program


def tone(frequency: float, level: float = 0.2) -> np.ndarray:
    t = np.arange(FRAME_SAMPLES) / 48_000
    return (level * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def test_program_is_everyone() -> None:
    a, b = tone(300), tone(700)
    assert np.allclose(mix_program({"a": a, "b": b}), a + b, atol=1e-6)
    assert not mix_program({}).any()


def test_each_speaker_hears_everyone_but_themselves() -> None:
    a, b, c = tone(300), tone(700), tone(1100)
    mixes = mix_minus_one({"a": a, "b": b, "c": c}, ["a", "b", "c", "listener"])
    assert np.allclose(mixes["a"], b + c, atol=1e-6)
    assert np.allclose(mixes["b"], a + c, atol=1e-6)
    assert np.allclose(mixes["listener"], a + b + c, atol=1e-6)


def test_loud_mixes_are_scaled_not_clipped() -> None:
    loud = {name: tone(200 + 100 * i, 0.8) for i, name in enumerate("abcd")}
    mix = mix_program(loud)
    assert np.abs(mix).max() <= HEADROOM + 1e-6
    reference = sum(loud.values())
    correlation = np.corrcoef(mix, reference)[0, 1]
    assert correlation > 0.999  # the same waveform, only quieter
