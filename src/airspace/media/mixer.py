"""Mixing 20 ms frames of speaker audio: the program everyone hears, and for each
speaker the mix of everyone else (mix-minus-one), so nobody hears their own voice."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

FRAME_SAMPLES = 960
"""20 ms at 48 kHz."""
SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.float32)
"""One frame of silence (never written to)."""
HEADROOM = 0.9


def _limit(mix: np.ndarray) -> np.ndarray:
    """Keep a mix within [-1, 1]: scale a frame down when its peak is over the headroom
    (no hard clipping, which would add distortion when several people talk at once)."""
    peak = float(np.abs(mix).max()) if mix.size else 0.0
    if peak > HEADROOM:
        mix = mix * (HEADROOM / peak)
    return mix.astype(np.float32, copy=False)


def mix_program(frames: Mapping[str, np.ndarray], samples: int = FRAME_SAMPLES) -> np.ndarray:
    """The sum of every speaker's frame (float32 mono, ``samples`` long); silence for none."""
    if not frames:
        return np.zeros(samples, dtype=np.float32)
    total = np.zeros(samples, dtype=np.float32)
    for frame in frames.values():
        total[: len(frame)] += frame[:samples]
    return _limit(total)


def mix_minus_one(
    frames: Mapping[str, np.ndarray], listeners: list[str], samples: int = FRAME_SAMPLES
) -> dict[str, np.ndarray]:
    """For each of ``listeners``, the mix of every frame but their own."""
    total = np.zeros(samples, dtype=np.float32)
    for frame in frames.values():
        total[: len(frame)] += frame[:samples]
    out = {}
    for speaker in listeners:
        own = frames.get(speaker)
        mix = total.copy()
        if own is not None:
            mix[: len(own)] -= own[:samples]
        out[speaker] = _limit(mix)
    return out
