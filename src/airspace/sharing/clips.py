"""Clips: anyone who may replay a recording picks 5 to 60 seconds of it and a title; a
job cuts it (M4A and MP3 to the sample) and renders its audiograms. A clip follows its
recording: hidden when the recording cannot be heard, its files purged with it."""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.captions.services import cues_of
from airspace.captions.transcript import Cue
from airspace.errors import Conflict, Forbidden, Invalid, NotFound
from airspace.ids import is_space_id, new_base62_id
from airspace.media.constants import SAMPLE_RATE
from airspace.recordings import services as recordings
from airspace.sharing.models import Clip, ClipState
from airspace.sharing.shares import require_not_blocked
from airspace.text import printable

if TYPE_CHECKING:
    from airspace.wiring import Services

logger = logging.getLogger(__name__)

SHORTEST, LONGEST = 5.0, 60.0
MAX_TITLE = 100
GRAIN = 1024
"""Clip lengths are whole AAC frames, so every file of a clip decodes to its exact length."""
FILES = ("clip.m4a", "clip.mp3", "audiogram-square.mp4", "audiogram-portrait.mp4")


def exact_length(seconds: float) -> float:
    """``seconds`` rounded to the nearest whole AAC frame (21.3 ms at 48 kHz), kept
    within the shortest and longest clip."""
    least = math.ceil(SHORTEST * SAMPLE_RATE / GRAIN)
    most = math.floor(LONGEST * SAMPLE_RATE / GRAIN)
    frames = min(most, max(least, round(seconds * SAMPLE_RATE / GRAIN)))
    return frames * GRAIN / SAMPLE_RATE


def clip_key(clip: Clip, name: str) -> str:
    return f"{clip.recording.media_prefix}clips/{clip.id}/{name}"


def create(
    session: Session,
    space_id: str,
    user: User,
    *,
    start: float,
    end: float,
    title: str,
    now: datetime,
) -> Clip:
    """A clip from ``start`` to ``end`` seconds of the replay as listeners hear it (after
    the host's start time)."""
    space, recording = recordings.replayable(session, space_id, user, now)
    require_not_blocked(session, space, user, "clip")
    if not recording.clips_allowed and user.id != space.host_id:
        raise Forbidden("the host has turned clipping off for this recording")
    if recording.duration_seconds is None:
        raise Conflict("the recording is still being processed; try again in a moment")
    title = printable(title.strip(), "title")
    if not title or len(title) > MAX_TITLE:
        raise Invalid(f"a clip needs a title of 1 to {MAX_TITLE} characters")
    if not SHORTEST <= end - start <= LONGEST:
        raise Invalid(f"a clip lasts {SHORTEST:.0f} to {LONGEST:.0f} seconds")
    length = exact_length(end - start)
    playable = recording.duration_seconds - recording.start_offset_seconds
    if start < 0 or start + length > playable + 0.001:
        raise Invalid(f"the clip must lie within the replay (0 to {playable:.1f} s)")
    clip = Clip(
        id=new_base62_id(),
        space_id=space.id,
        recording_id=recording.id,
        creator_id=user.id,
        title=title,
        start_seconds=recording.start_offset_seconds + start,
        duration_seconds=length,
        state=ClipState.MAKING,
        error="",
        created_at=now,
    )
    session.add(clip)
    session.flush()
    return clip


def get(session: Session, clip_id: str) -> Clip:
    clip = session.get(Clip, clip_id) if is_space_id(clip_id) else None
    if clip is None:
        raise NotFound("no such clip")
    return clip


def visible(session: Session, clip_id: str, user: User | None, now: datetime) -> Clip:
    """The clip, if ``user`` may hear its recording now (raises as replaying would)."""
    clip = get(session, clip_id)
    recordings.replayable(session, clip.space_id, user, now)
    return clip


def of_space(session: Session, space_id: str) -> list[Clip]:
    query = select(Clip).where(Clip.space_id == space_id).order_by(Clip.created_at.desc())
    return list(session.scalars(query))


def count(session: Session, space_id: str) -> int:
    return session.scalar(select(func.count(Clip.id)).where(Clip.space_id == space_id)) or 0


def delete(services: Services, session: Session, clip: Clip, user: User) -> None:
    """The clip's maker or the host removes it, files and all."""
    if user.id not in (clip.creator_id, clip.space.host_id) and not user.is_moderator:
        raise Forbidden("only the clip's maker or the host can delete it")
    services.storage.delete_prefix(clip_key(clip, ""))
    session.delete(clip)


def cues_within(session: Session, clip: Clip) -> list[Cue]:
    """The recording's captions within the clip, on the clip's clock."""
    start, end = clip.start_seconds, clip.start_seconds + clip.duration_seconds
    return [
        Cue(c.speaker, max(0.0, c.start - start), min(end, c.end) - start, c.body)
        for c in cues_of(session, clip.recording_id)
        if c.end > start and c.start < end
    ]
