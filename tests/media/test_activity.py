from __future__ import annotations

import numpy as np
import pytest

from airspace.media.activity import ActivityDetector
from airspace.media.mixer import FRAME_SAMPLES


def frames(pattern: list[tuple[float, float]]) -> list[np.ndarray]:
    """(seconds, level) pieces of a 440 Hz tone, as 20 ms frames."""
    out = []
    for seconds, level in pattern:
        for _ in range(round(seconds / 0.02)):
            t = np.arange(FRAME_SAMPLES) / 48_000
            out.append((level * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
    return out


def test_speech_start_and_stop_times() -> None:
    detector = ActivityDetector()
    changes = []
    for index, frame in enumerate(
        frames([(1.0, 0.0), (2.0, 0.3), (0.2, 0.0), (1.0, 0.3), (2.0, 0.0)])
    ):
        change = detector.feed("ada", frame, index * 0.02)
        if change:
            changes.append((change.speaking, change.at))
    # A 0.2 s pause between words does not end the speech.
    assert len(changes) == 2
    assert changes[0][0] is True
    assert changes[0][1] == pytest.approx(1.0, abs=0.03)
    assert changes[1][0] is False
    assert changes[1][1] == pytest.approx(4.2, abs=0.03)


def test_a_click_is_not_speech_and_leaving_ends_speech() -> None:
    detector = ActivityDetector()
    assert all(
        detector.feed("bob", f, i * 0.02) is None
        for i, f in enumerate(frames([(0.04, 0.5), (1.0, 0.0)]))
    )
    for index, frame in enumerate(frames([(0.5, 0.3)])):
        detector.feed("bob", frame, 2 + index * 0.02)
    change = detector.leave("bob", 2.5)
    assert change is not None
    assert change.speaking is False
