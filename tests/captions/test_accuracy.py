from __future__ import annotations

import pytest

from airspace.captions.accuracy import normalized_words, word_error_rate


def test_normalized_words_ignore_case_and_punctuation() -> None:
    assert normalized_words("Hello, World! It's well-known.") == [
        "hello",
        "world",
        "it's",
        "well",
        "known",
    ]


@pytest.mark.parametrize(
    ("reference", "hypothesis", "rate"),
    [
        ("the cat sat", "the cat sat", 0.0),
        ("the cat sat", "the bat sat", 1 / 3),
        ("the cat sat", "the sat", 1 / 3),
        ("the cat sat", "the cat sat down", 1 / 3),
        ("the cat sat", "", 1.0),
        ("", "", 0.0),
    ],
)
def test_word_error_rate(reference: str, hypothesis: str, rate: float) -> None:
    assert word_error_rate(reference, hypothesis) == pytest.approx(rate)
