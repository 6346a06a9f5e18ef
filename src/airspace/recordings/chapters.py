"""Chapters of a recording: made from who spoke when (a new voice after a while, or the
talk resuming after a silence), or set by the host. Every output uses the same list:
the player's chapter list, Podcasting 2.0 JSON chapters, and the chapters written into
MP3 and M4A files."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.errors import Forbidden, Invalid
from airspace.recordings.models import Recording, RecordingChapter
from airspace.recordings.replay import Turn
from airspace.spaces.models import Space
from airspace.text import printable

SHORTEST = 30.0
"""A chapter made from the turns lasts at least this long (the last may be shorter)."""
SILENCE = 4.0
"""A silence at least this long, after a chapter's shortest length, starts a new one."""
MOST = 100


@dataclass(frozen=True)
class Chapter:
    start: float
    """Seconds: of the recording where stored, of the replay once shifted."""
    title: str


def from_turns(turns: Sequence[Turn]) -> list[Chapter]:
    """Chapters from speaker turns (on one clock, in order): the first voice opens the
    first chapter; later, once a chapter has lasted ``SHORTEST``, a different voice or
    talk after a ``SILENCE`` opens the next."""
    chapters: list[Chapter] = []
    last_speaker, last_end = None, 0.0
    for turn in turns:
        current = chapters[-1] if chapters else None
        long_enough = current is None or turn.start - current.start >= SHORTEST
        new_voice = turn.speaker != last_speaker
        after_silence = turn.start - last_end >= SILENCE
        if current is None or (long_enough and (new_voice or after_silence)):
            chapters.append(Chapter(turn.start, turn.speaker or "Conversation"))
        last_speaker, last_end = turn.speaker, max(last_end, turn.end)
    if not chapters or chapters[0].start > 0:
        chapters.insert(0, Chapter(0.0, "Start"))
    return chapters


def stored(session: Session, recording_id: int) -> list[Chapter]:
    rows = session.scalars(
        select(RecordingChapter)
        .where(RecordingChapter.recording_id == recording_id)
        .order_by(RecordingChapter.start_seconds)
    )
    return [Chapter(r.start_seconds, r.title) for r in rows]


def on_replay_clock(chapters: Sequence[Chapter], offset: float, duration: float) -> list[Chapter]:
    """Chapters shifted by the start offset: those before it fold into a first chapter
    at 0 (keeping the title of the one playing there)."""
    shifted: list[Chapter] = []
    for chapter in chapters:
        at = round(chapter.start - offset, 3)
        if at >= duration:
            break
        if at <= 0:
            shifted = [Chapter(0.0, chapter.title)]
        else:
            shifted.append(Chapter(at, chapter.title))
    return shifted or [Chapter(0.0, "Start")]


def replace(
    session: Session,
    recording: Recording,
    space: Space,
    user: User,
    chapters: Sequence[Chapter],
) -> None:
    """The host's chapters (on the replay's clock) replace the automatic ones; an empty
    list goes back to the automatic ones."""
    if user.id != space.host_id:
        raise Forbidden("only the host can edit the chapters")
    if len(chapters) > MOST:
        raise Invalid(f"at most {MOST} chapters")
    playable = (recording.duration_seconds or 0.0) - recording.start_offset_seconds
    starts = [c.start for c in chapters]
    if starts and (starts[0] != 0 or starts != sorted(set(starts))):
        raise Invalid("chapters start at 0 and then each later than the one before")
    if starts and starts[-1] >= playable:
        raise Invalid(f"every chapter must start within the replay (before {playable:.1f} s)")
    session.execute(delete(RecordingChapter).where(RecordingChapter.recording_id == recording.id))
    for chapter in chapters:
        title = printable(chapter.title.strip(), "a chapter title")
        if not title:
            raise Invalid("every chapter needs a title")
        session.add(
            RecordingChapter(
                recording_id=recording.id,
                start_seconds=recording.start_offset_seconds + chapter.start,
                title=title,
            )
        )


def podcast_chapters(chapters: Sequence[Chapter], title: str) -> dict[str, object]:
    """Podcasting 2.0 JSON chapters (``application/json+chapters``)."""
    return {
        "version": "1.2.0",
        "title": title,
        "chapters": [{"startTime": c.start, "title": c.title} for c in chapters],
    }


def of_recording(session: Session, recording: Recording) -> tuple[list[Chapter], bool]:
    """The recording's chapters on the replay's clock, and whether the host set them."""
    from airspace.recordings.services import speaker_turns

    offset = recording.start_offset_seconds
    own = stored(session, recording.id)
    chapters = own or from_turns(speaker_turns(session, recording.id))
    duration = (recording.duration_seconds or 0.0) - offset
    return on_replay_clock(chapters, offset, duration), bool(own)
