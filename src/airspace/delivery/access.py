"""The access check that issues grants: who may hear which of a Space's media, now.

Public Spaces are for everyone; ticketed ones for ticket holders and the host;
moderators hear everything, held media (deleted or past its window) included. A
recording is for listeners while its window is open, so a grant to it ends with the
window; a grant to held media is private to the moderator who asked.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.delivery.grants import Audience, Grant, Scope
from airspace.delivery.policy import GRANT_SECONDS
from airspace.errors import Conflict, Forbidden, Gone
from airspace.recordings import lifecycle
from airspace.recordings import services as recordings
from airspace.recordings.models import Recording, RecordingState
from airspace.spaces import services as spaces
from airspace.spaces.models import Space, SpaceState


def live_grant(session: Session, space_id: str, user: User | None, now: datetime) -> Grant:
    """A grant to a live Space's playlist and segments; once the Space has ended, to its
    recording (whose playlist then lists every segment)."""
    space = spaces.get(session, space_id)
    if space.state is SpaceState.SCHEDULED:
        raise Conflict("this Space has not started yet")
    if space.state is SpaceState.CANCELED:
        raise Gone("this Space was canceled")
    if space.state is SpaceState.ENDED:
        if recordings.recording_for_space(session, space.id) is None:
            raise Gone("this Space has ended and was not recorded")
        return replay_grant(session, space_id, user, now)[0]
    moderator = user is not None and user.is_moderator
    if space.is_ticketed and not moderator and not spaces.has_ticket(session, space, user):
        raise Forbidden("this Space is for ticket holders")
    audience = Audience.PRIVATE if space.is_ticketed else Audience.PUBLIC
    expires = int(now.timestamp()) + GRANT_SECONDS
    return Grant(space.id, Scope.LIVE, audience, expires, space.media_generation)


def replay_grant(
    session: Session, space_id: str, user: User | None, now: datetime
) -> tuple[Grant, Space, Recording]:
    """A grant to everything of a Space's recording, if ``user`` may hear it now;
    raises 404/409/410/403 as ``recordings.replayable`` does."""
    space, recording = recordings.replayable(session, space_id, user, now)
    held = recording.state in lifecycle.HELD_STATES or (
        recording.available_until is not None and now >= recording.available_until
    )
    audience = Audience.PRIVATE if space.is_ticketed or held else Audience.PUBLIC
    expires = int(now.timestamp()) + GRANT_SECONDS
    if not held and recording.available_until is not None:
        expires = min(expires, int(recording.available_until.timestamp()))
    grant = Grant(space.id, Scope.REPLAY, audience, expires, space.media_generation)
    return grant, space, recording


def granted_recording(session: Session, grant: Grant) -> tuple[Space, Recording]:
    """The Space and recording a replay grant opens (the grant was checked already)."""
    space = spaces.get(session, grant.space_id)
    recording = recordings.recording_for_space(session, space.id)
    if recording is None:
        raise Gone("this Space has ended and was not recorded")
    if recording.state is RecordingState.PURGED:
        raise Gone("this recording was deleted")
    return space, recording


def stored_generations(session: Session) -> dict[str, int]:
    """Every Space whose media was ever revoked, with its generation."""
    rows = session.execute(
        select(Space.id, Space.media_generation).where(Space.media_generation > 0)
    ).all()
    return {space_id: generation for space_id, generation in rows}


def tracks_grant(
    session: Session, space_id: str, user: User | None, now: datetime
) -> tuple[Grant, Space, Recording]:
    """A grant to the speakers' own tracks of a recording: for its host alone (the
    tracks hold each voice apart, which listeners never hear), while it is replayable."""
    _, space, recording = replay_grant(session, space_id, user, now)
    if user is None or user.id != space.host_id:
        raise Forbidden("only the host can download the speakers' tracks")
    expires = int(now.timestamp()) + GRANT_SECONDS
    grant = Grant(space.id, Scope.TRACKS, Audience.PRIVATE, expires, space.media_generation)
    return grant, space, recording
