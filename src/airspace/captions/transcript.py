"""From recognised words to captions: cues by speaker, WebVTT with ``<v Name>`` voice
spans, and the Podcasting 2.0 JSON transcript. Times follow the start offset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airspace.captions.recognizer import Word
    from airspace.recordings.replay import Turn

MAX_CUE_SECONDS = 6.0
MAX_CUE_CHARACTERS = 84
PAUSE_SECONDS = 1.2
"""A pause this long between words starts a new cue."""
SENTENCE_CUE_SECONDS = 1.5
"""A cue at least this long ends with its sentence, so cues hold whole sentences."""
ATTRIBUTION_SLACK = 0.6
"""A word this close to a speaker's turn is still theirs (voice activity lags a little)."""


@dataclass(frozen=True)
class Cue:
    speaker: str
    start: float
    end: float
    """Seconds of the whole recording."""
    body: str


def speaker_at(turns: Sequence[Turn], at: float) -> str:
    """Who was talking at ``at`` seconds: the turn holding it, else the nearest one
    within the slack, else nobody ("")."""
    best, distance = "", ATTRIBUTION_SLACK
    for turn in turns:
        if turn.start <= at <= turn.end:
            return turn.speaker
        gap = turn.start - at if at < turn.start else at - turn.end
        if gap <= distance:
            best, distance = turn.speaker, gap
    return best


def cues_from_words(words: Sequence[Word], turns: Sequence[Turn]) -> list[Cue]:
    """Group words into cues: one speaker each, split at pauses and at a readable length."""
    cues: list[Cue] = []
    current: list[Word] = []
    speaker = ""

    def close() -> None:
        if current:
            body = " ".join(w.text for w in current)
            cues.append(Cue(speaker, current[0].start, current[-1].end, body))
            current.clear()

    for word in words:
        who = speaker_at(turns, (word.start + word.end) / 2)
        if current and (
            who != speaker
            or word.start - current[-1].end > PAUSE_SECONDS
            or (
                current[-1].text.endswith((".", "?", "!"))
                and current[-1].end - current[0].start >= SENTENCE_CUE_SECONDS
            )
            or word.end - current[0].start > MAX_CUE_SECONDS
            or sum(len(w.text) + 1 for w in current) + len(word.text) > MAX_CUE_CHARACTERS
        ):
            close()
        speaker = who
        current.append(word)
    close()
    return cues


def on_replay_clock(cues: Sequence[Cue], offset: float) -> list[Cue]:
    """Cues shifted so the replay's start (``offset``) is 0; earlier ones are dropped."""
    shifted = []
    for cue in cues:
        if cue.end <= offset:
            continue
        start = max(0.0, cue.start - offset)
        shifted.append(Cue(cue.speaker, round(start, 3), round(cue.end - offset, 3), cue.body))
    return shifted


def _timestamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def webvtt(cues: Sequence[Cue], mpegts_start: int | None = None) -> str:
    """WebVTT of ``cues`` (already on the replay clock). For an HLS subtitles rendition,
    ``mpegts_start`` is the 90 kHz timestamp of the replay's time 0."""
    lines = ["WEBVTT"]
    if mpegts_start is not None:
        lines.append(f"X-TIMESTAMP-MAP=MPEGTS:{mpegts_start},LOCAL:00:00:00.000")
    lines.append("")
    for cue in cues:
        lines.append(f"{_timestamp(cue.start)} --> {_timestamp(cue.end)}")
        voice = f"<v {_escape(cue.speaker)}>" if cue.speaker else ""
        lines.append(voice + _escape(cue.body))
        lines.append("")
    return "\n".join(lines)


def podcast_transcript(cues: Sequence[Cue]) -> dict[str, Any]:
    """The Podcasting 2.0 JSON transcript (``application/json`` for ``podcast:transcript``)."""
    return {
        "version": "1.0.0",
        "segments": [
            {"speaker": c.speaker, "startTime": c.start, "endTime": c.end, "body": c.body}
            for c in cues
        ],
    }
