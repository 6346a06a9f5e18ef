"""What moderators and admins can do, each with a reason and an audit entry: end a live
Space, take a recording down and reinstate it, suspend and unsuspend an account; and the
audit log itself, for admins."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.accounts import services as accounts
from airspace.accounts.auth import CurrentAdmin, CurrentModerator
from airspace.accounts.models import User
from airspace.api_contract import errors
from airspace.delivery.generations import revoke_media
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import Conflict, NotFound
from airspace.inputs import MAX_ROW_ID, InputModel
from airspace.live.forwarding import ask_app
from airspace.live.views import RoomsDep
from airspace.moderation import audit
from airspace.recordings import lifecycle
from airspace.recordings.models import Recording
from airspace.recordings.services import recording_for_space
from airspace.spaces import services as spaces
from airspace.spaces.models import Space, SpaceState
from airspace.text import PlainText

router = APIRouter(tags=["moderation"])


class Reason(InputModel):
    reason: PlainText = Field(min_length=3, max_length=audit.MAX_REASON)


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    reason: str
    details: dict[str, Any]


class SuspensionOut(BaseModel):
    username: str
    suspended: bool
    ended_spaces: list[str] = []


@router.post("/spaces/{space_id}/room/shutdown", responses=errors(404, 409))
async def end_live_space(
    space_id: str,
    body: Reason,
    services: ServicesDep,
    db: DbDep,
    rooms: RoomsDep,
    moderator: CurrentModerator,
) -> dict[str, str]:
    """End a live Space for everyone (moderators and admins). Sent to any node, it runs
    on the node holding the room; what was recorded is kept, held like any recording."""
    space = spaces.get(db, space_id)
    if space.state is not SpaceState.LIVE:
        raise Conflict(f"this Space is {space.state.value}, not live")
    moderator_id = moderator.id
    db.close()  # the room's end waits on the media: hold no connection meanwhile
    await rooms.end_space(space_id, None)
    with services.sessions() as session:
        actor = session.get_one(User, moderator_id)
        now = services.clock.now()
        audit.record(
            session, actor, "space.ended_by_moderator", f"space:{space_id}", now, body.reason
        )
        session.commit()
    return {"id": space_id, "state": SpaceState.ENDED.value}


@router.post("/spaces/{space_id}/recording/takedown", responses=errors(404, 409))
def take_down(
    space_id: str, body: Reason, services: ServicesDep, db: DbDep, moderator: CurrentModerator
) -> dict[str, str]:
    """Take a recording down: gone for everyone but moderators at once (every link handed
    out stops working), held for the moderation period; the host cannot bring it back."""
    space = spaces.get(db, space_id)
    recording = _recording(db, space)
    now = services.clock.now()
    lifecycle.take_down(recording)
    revoke_media(space)
    audit.record(db, moderator, "recording.taken_down", f"recording:{space_id}", now, body.reason)
    db.commit()
    services.generations.announce(space.id, space.media_generation)
    return {"id": space_id, "state": recording.state.value}


@router.post("/spaces/{space_id}/recording/reinstate", responses=errors(404, 409))
def reinstate(
    space_id: str, body: Reason, services: ServicesDep, db: DbDep, moderator: CurrentModerator
) -> dict[str, str]:
    """Undo a takedown (with new links: the old ones stay revoked)."""
    space = spaces.get(db, space_id)
    recording = _recording(db, space)
    now = services.clock.now()
    lifecycle.reinstate(recording, now)
    audit.record(db, moderator, "recording.reinstated", f"recording:{space_id}", now, body.reason)
    db.commit()
    return {"id": space_id, "state": recording.state.value}


@router.post("/users/{username}/suspend", responses=errors(403, 404, 409))
async def suspend(
    username: str,
    body: Reason,
    request: Request,
    services: ServicesDep,
    db: DbDep,
    moderator: CurrentModerator,
) -> SuspensionOut:
    """Suspend an account: signed out everywhere, cannot sign in, its live Spaces end."""
    now = services.clock.now()
    user = accounts.suspend(db, moderator, username, body.reason, now)
    audit.record(db, moderator, "user.suspended", f"user:{user.username}", now, body.reason)
    db.commit()
    live = list(
        db.scalars(select(Space.id).where(Space.host_id == user.id, Space.state == SpaceState.LIVE))
    )
    db.close()
    headers = [
        (name, value)
        for name, value in request.headers.items()
        if name not in ("content-length", "content-type")
    ]
    ended = []
    for space_id in live:
        # Through the app, as the moderator: the node holding the room ends it.
        reason = json.dumps({"reason": f"host suspended: {body.reason}"[: audit.MAX_REASON]})
        answer = await ask_app(
            request.app,
            "POST",
            f"/api/v1/spaces/{space_id}/room/shutdown",
            [*headers, ("content-type", "application/json")],
            (request.client.host, request.client.port) if request.client else None,
            reason.encode(),
        )
        if answer["status"] == 200:
            ended.append(space_id)
    return SuspensionOut(username=user.username, suspended=True, ended_spaces=ended)


@router.post("/users/{username}/unsuspend", responses=errors(404, 409))
def unsuspend(
    username: str, body: Reason, services: ServicesDep, db: DbDep, moderator: CurrentModerator
) -> SuspensionOut:
    user = accounts.unsuspend(db, username)
    audit.record(
        db,
        moderator,
        "user.unsuspended",
        f"user:{user.username}",
        services.clock.now(),
        body.reason,
    )
    db.commit()
    return SuspensionOut(username=user.username, suspended=False)


@router.get("/audit")
def audit_log(
    db: DbDep,
    admin: CurrentAdmin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    action: Annotated[str | None, Query(max_length=40)] = None,
) -> list[AuditEntryOut]:
    """Every destructive or moderation action, newest first (admins)."""
    return [AuditEntryOut.model_validate(e) for e in audit.entries(db, limit, before, action)]


def _recording(db: Session, space: Space) -> Recording:
    recording = recording_for_space(db, space.id)
    if recording is None:
        raise NotFound("this Space was not recorded")
    return recording
