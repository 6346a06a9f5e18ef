from __future__ import annotations

import numpy as np
import pytest

from airspace.media.mp3_encoders import (
    BundledLameEncoder,
    SystemLameEncoder,
    open_mp3_encoder,
    split_frames,
    system_lame,
)
from tests.audio import SAMPLE_RATE, best_lag, decode, tone_bursts

ENCODERS = [BundledLameEncoder, SystemLameEncoder]


@pytest.mark.parametrize("encoder_class", ENCODERS)
def test_encoders_make_standalone_frames_of_the_input(encoder_class: type) -> None:
    if encoder_class is SystemLameEncoder and system_lame() is None:
        pytest.fail("libmp3lame0 is not installed (scripts and CI install it)")
    pcm = tone_bursts(6.0, seed=31).reshape(1, -1)
    encoder = encoder_class(SAMPLE_RATE, 1, 5)
    frames = []
    for start in range(0, pcm.shape[1], 10_000):
        frames += encoder.encode(pcm[:, start : start + 10_000])
    frames += encoder.flush()
    assert encoder.delay == 1105
    # Every input sample, delayed, fits in the frames, with less than two frames to spare.
    assert 0 <= len(frames) * 1152 - (pcm.shape[1] + encoder.delay) < 2 * 1152
    decoded, _ = decode(b"".join(frames), format="mp3")
    # Without a LAME tag to say so, decoders keep the whole delay in front of the audio.
    lag, correlation = best_lag(pcm[0], decoded[encoder.delay :])
    assert abs(lag) <= 1
    assert correlation > 0.95


def test_both_encoders_agree_on_framing() -> None:
    pcm = tone_bursts(3.0, seed=32).reshape(1, -1)
    counts = []
    for encoder_class in ENCODERS:
        encoder = encoder_class(SAMPLE_RATE, 1, 5)
        counts.append(len(encoder.encode(pcm) + encoder.flush()))
    assert counts[0] == counts[1]


def test_the_fast_encoder_is_chosen_when_present() -> None:
    expected = SystemLameEncoder if system_lame() is not None else BundledLameEncoder
    assert isinstance(open_mp3_encoder(SAMPLE_RATE, 1, 5), expected)


def test_split_frames_keeps_partial_tail() -> None:
    encoder = BundledLameEncoder(SAMPLE_RATE, 1, 5)
    data = b"".join(encoder.encode(np.zeros((1, 48_000), np.float32)) + encoder.flush())
    frames, rest = split_frames(data[:-10])
    assert b"".join(frames) + rest == data[:-10]
    assert len(rest) > 0
    with pytest.raises(ValueError, match="sync"):
        split_frames(b"garbage!")
