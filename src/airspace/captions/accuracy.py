"""How good a transcript is: word error rate against the words really spoken."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9']+")


def normalized_words(text: str) -> list[str]:
    """Lower case words without punctuation: how transcripts are compared."""
    return _WORD.findall(text.lower().replace("-", " "))


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / words in ``reference``."""
    ref, hyp = normalized_words(reference), normalized_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, heard in enumerate(hyp, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (word != heard),
            )
        previous = current
    return previous[-1] / len(ref)
