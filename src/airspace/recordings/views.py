"""Recording API: its state, and deletion by the host."""

from __future__ import annotations

from fastapi import APIRouter, status

from airspace.accounts.auth import CurrentUser, OptionalUser
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import Forbidden, Gone, NotFound
from airspace.recordings import lifecycle
from airspace.recordings.models import Recording, RecordingState
from airspace.recordings.schemas import RecordingOut
from airspace.recordings.services import recording_for_space
from airspace.spaces import services as spaces

router = APIRouter(prefix="/spaces/{space_id}/recording", tags=["recordings"])


def _recording(db: DbDep, space_id: str) -> Recording:
    space = spaces.get(db, space_id)
    recording = recording_for_space(db, space.id)
    if recording is None:
        raise NotFound("this Space was not recorded")
    return recording


@router.get("")
def get_recording(space_id: str, db: DbDep, user: OptionalUser) -> RecordingOut:
    recording = _recording(db, space_id)
    is_host = user is not None and spaces.get(db, space_id).host_id == user.id
    if recording.state in (RecordingState.DELETED, RecordingState.PURGED) and not is_host:
        raise Gone("this recording was deleted")
    return RecordingOut.model_validate(recording)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
def delete_recording(space_id: str, services: ServicesDep, db: DbDep, user: CurrentUser) -> None:
    """Delete at once for everyone; the media is held for moderation, then purged."""
    space = spaces.get(db, space_id)
    if space.host_id != user.id:
        raise Forbidden("only the host can delete this recording")
    lifecycle.delete(_recording(db, space_id), services.clock.now())
    db.commit()
