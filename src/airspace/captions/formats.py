"""Captions written as files people use: WebVTT (players, with voices), SubRip (video
editors), plain text with times (show notes), and the Podcasting 2.0 JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from airspace.captions.transcript import Cue, podcast_transcript, webvtt
from airspace.web.formatting import clock

CAPTION_FORMATS = ("vtt", "srt", "txt", "json")


def subrip(cues: Sequence[Cue]) -> str:
    """SubRip: numbered cues, ``00:00:01,500`` times, the speaker before the words."""
    blocks = []
    for number, cue in enumerate(cues, start=1):
        said = f"{cue.speaker}: {cue.body}" if cue.speaker else cue.body
        blocks.append(f"{number}\n{_srt_time(cue.start)} --> {_srt_time(cue.end)}\n{said}\n")
    return "\n".join(blocks)


def _srt_time(seconds: float) -> str:
    millis = round(max(0.0, seconds) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{millis:03d}"


def plain_text(cues: Sequence[Cue]) -> str:
    """One paragraph per turn: ``[1:05] Speaker: words…``, consecutive cues of one speaker
    joined."""
    paragraphs: list[tuple[float, str, list[str]]] = []
    for cue in cues:
        if paragraphs and paragraphs[-1][1] == cue.speaker:
            paragraphs[-1][2].append(cue.body)
        else:
            paragraphs.append((cue.start, cue.speaker, [cue.body]))
    lines = []
    for start, speaker, bodies in paragraphs:
        who = f"{speaker}: " if speaker else ""
        lines.append(f"[{clock(start)}] {who}{' '.join(bodies)}")
    return "\n\n".join(lines) + ("\n" if lines else "")


def render_captions(cues: Sequence[Cue], format: str) -> str:
    if format == "vtt":
        return webvtt(cues)
    if format == "srt":
        return subrip(cues)
    if format == "txt":
        return plain_text(cues)
    if format == "json":
        return json.dumps(podcast_transcript(cues), indent=1, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown captions format {format!r}; choose from {CAPTION_FORMATS}")


def cues_from_podcast_json(document: dict[str, Any]) -> list[Cue]:
    """Cues of a Podcasting 2.0 JSON transcript (what Airspace instances serve)."""
    cues = []
    for segment in document.get("segments", []):
        try:
            cues.append(
                Cue(
                    str(segment.get("speaker") or ""),
                    float(segment["startTime"]),
                    float(segment["endTime"]),
                    str(segment["body"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue  # a segment without times or words: nothing to show
    return cues
