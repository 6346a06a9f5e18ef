from __future__ import annotations

import ctypes.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from airspace.errors import ConfigError
from airspace.media.mp3_encoders import (
    ALGORITHM_QUALITY,
    LAME_LIBRARY_SETTING,
    BundledLameEncoder,
    LameEncoder,
    lame_library,
    lame_library_path,
    load_lame,
    open_mp3_encoder,
    pedalboard_lame_path,
    split_frames,
)
from tests.audio import SAMPLE_RATE, best_lag, decode, speech, tone_bursts

ENCODERS = [BundledLameEncoder, LameEncoder]
SENTENCE = (
    "The quick brown fox jumps over the lazy dog, and the five boxing wizards jump quickly "
    "while a recording of the Space is encoded for the listeners who missed it."
)


@pytest.fixture
def fresh_library_choice(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The library is chosen again for the test, and again after it."""
    lame_library.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    lame_library.cache_clear()


def encode_all(encoder: Any, pcm: np.ndarray) -> bytes:
    return b"".join(encoder.encode(pcm.reshape(1, -1)) + encoder.flush())


def snr_db(source: np.ndarray, mp3: bytes, delay: int) -> float:
    """Signal-to-noise ratio of the decoded MP3 against ``source``."""
    decoded, _ = decode(mp3, format="mp3")
    aligned = decoded[delay : delay + len(source)]
    error = aligned - source[: len(aligned)]
    return float(10 * np.log10((source[: len(aligned)] ** 2).sum() / (error**2).sum()))


@pytest.mark.parametrize("encoder_class", ENCODERS)
def test_encoders_make_standalone_frames_of_the_input(encoder_class: type) -> None:
    if encoder_class is LameEncoder and lame_library() is None:
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
    expected = LameEncoder if lame_library() is not None else BundledLameEncoder
    assert isinstance(open_mp3_encoder(SAMPLE_RATE, 1, 5), expected)


def test_split_frames_keeps_partial_tail() -> None:
    encoder = BundledLameEncoder(SAMPLE_RATE, 1, 5)
    data = b"".join(encoder.encode(np.zeros((1, 48_000), np.float32)) + encoder.flush())
    frames, rest = split_frames(data[:-10])
    assert b"".join(frames) + rest == data[:-10]
    assert len(rest) > 0
    with pytest.raises(ValueError, match="sync"):
        split_frames(b"garbage!")


def test_algorithm_quality_decodes_exactly_as_lames_default() -> None:
    # ffmpeg and yt-dlp leave LAME's -q at its default (3), which VBR treats as 0: the
    # same quantisation as at 5, plus a slower search for the Huffman table split.
    pcm = speech(SENTENCE)
    ours = encode_all(LameEncoder(SAMPLE_RATE, 1, 5), pcm)
    default = encode_all(LameEncoder(SAMPLE_RATE, 1, 5, algorithm_quality=3), pcm)
    assert ALGORITHM_QUALITY == 5
    assert ours != default
    assert np.array_equal(decode(ours, format="mp3")[0], decode(default, format="mp3")[0])
    assert len(default) <= len(ours) <= 1.02 * len(default)


def test_pedalboards_lame_encodes_as_well_as_the_systems() -> None:
    # The same LAME release built with other optimisations: rounding differs in a few
    # bits of some frames, never in how the audio sounds or how large the file is.
    bundled, system = pedalboard_lame_path(), ctypes.util.find_library("mp3lame")
    if bundled is None:
        pytest.fail("Pedalboard is not installed (the dev extra installs it)")
    if system is None:
        pytest.fail("libmp3lame0 is not installed (scripts and CI install it)")
    pcm = speech(SENTENCE)
    fast = LameEncoder(SAMPLE_RATE, 1, 5, library=load_lame(bundled))
    debian = LameEncoder(SAMPLE_RATE, 1, 5, library=load_lame(system))
    fast_mp3, debian_mp3 = encode_all(fast, pcm), encode_all(debian, pcm)
    assert fast.delay == debian.delay
    fast_snr, debian_snr = snr_db(pcm, fast_mp3, fast.delay), snr_db(pcm, debian_mp3, debian.delay)
    assert debian_snr > 15
    assert abs(fast_snr - debian_snr) < 0.1
    assert abs(len(fast_mp3) - len(debian_mp3)) <= 0.01 * len(debian_mp3)


def test_library_is_chosen_by_setting_then_pedalboard_then_system(
    fresh_library_choice: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch = fresh_library_choice
    monkeypatch.delenv(LAME_LIBRARY_SETTING, raising=False)
    assert lame_library_path() == pedalboard_lame_path()
    monkeypatch.setenv(LAME_LIBRARY_SETTING, "system")
    assert lame_library_path() == ctypes.util.find_library("mp3lame")
    monkeypatch.setenv(LAME_LIBRARY_SETTING, "pedalboard")
    assert lame_library_path() == pedalboard_lame_path()
    monkeypatch.setenv(LAME_LIBRARY_SETTING, str(tmp_path / "libmp3lame.so.0"))
    assert lame_library_path() == str(tmp_path / "libmp3lame.so.0")
    # Without Pedalboard: the system's, and a clear line for the setting that wants it.
    monkeypatch.setattr("airspace.media.mp3_encoders.PEDALBOARD_MODULE", "no_such_module")
    monkeypatch.delenv(LAME_LIBRARY_SETTING)
    assert lame_library_path() == ctypes.util.find_library("mp3lame")
    monkeypatch.setenv(LAME_LIBRARY_SETTING, "pedalboard")
    with pytest.raises(ConfigError, match="Pedalboard is not installed"):
        lame_library()


def test_a_library_setting_that_does_not_load_is_a_config_error(
    fresh_library_choice: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    not_a_library = tmp_path / "libmp3lame.so.0"
    not_a_library.write_bytes(b"not a shared object")
    fresh_library_choice.setenv(LAME_LIBRARY_SETTING, str(not_a_library))
    with pytest.raises(ConfigError, match=f"{LAME_LIBRARY_SETTING}: cannot load"):
        lame_library()


def test_load_lame_refuses_a_library_that_is_not_lame() -> None:
    with pytest.raises(OSError, match="not libmp3lame"):
        load_lame(ctypes.util.find_library("c") or "libc.so.6")
