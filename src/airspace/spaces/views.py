"""Spaces API: create, read, list, edit, cancel, start, end, tickets."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from airspace.accounts.auth import CurrentUser
from airspace.accounts.schemas import UserOut
from airspace.api_contract import errors
from airspace.dependencies import DbDep, ServicesDep
from airspace.downloader import pending
from airspace.live.views import RoomsDep
from airspace.recordings.models import RecordingState
from airspace.recordings.services import recording_for_space
from airspace.recordings.views import recording_out
from airspace.sharing import clips, shares
from airspace.spaces import services as spaces
from airspace.spaces.models import Space, SpaceState
from airspace.spaces.schemas import (
    Listing,
    SpaceCreate,
    SpaceOut,
    SpacePage,
    SpaceUpdate,
    TicketOut,
    TicketRequest,
)
from airspace.wiring import Services

router = APIRouter(prefix="/spaces", tags=["spaces"])

HIDDEN_RECORDING_STATES = {
    RecordingState.DELETED,
    RecordingState.TAKEN_DOWN,
    RecordingState.PURGED,
}


def space_out(session: Session, services: Services, space: Space) -> SpaceOut:
    recording = recording_for_space(session, space.id)
    shown = recording if recording and recording.state not in HIDDEN_RECORDING_STATES else None
    return SpaceOut(
        id=space.id,
        url=f"{services.settings.public_url}/i/spaces/{space.id}",
        title=space.title,
        description=space.description,
        topics=list(space.topics),
        host=UserOut.model_validate(space.host),
        state=space.state,
        record=space.record,
        recording_indicator=space.record and space.state is SpaceState.LIVE,
        live_playlist_url=(
            f"{services.settings.public_url}/i/spaces/{space.id}/live.m3u8"
            if space.state is SpaceState.LIVE
            else None
        ),
        participant_count=space.participant_count,
        peak_listeners=space.peak_listeners,
        scheduled_start=space.scheduled_start,
        created_at=space.created_at,
        started_at=space.started_at,
        ended_at=space.ended_at,
        ticket_capacity=space.ticket_capacity,
        tickets_issued=spaces.count_tickets(session, space) if space.is_ticketed else None,
        recording=recording_out(services, session, shown) if shown else None,
        replay_count=shown.replay_count if shown else 0,
        duration_seconds=(
            max(0.0, shown.duration_seconds - shown.start_offset_seconds)
            if shown and shown.duration_seconds is not None
            else None
        ),
        clip_count=clips.count(session, space.id) if shown else 0,
        share_count=shares.share_count(session, space.id),
    )


def _fields(body: SpaceCreate | SpaceUpdate) -> spaces.SpaceFields:
    return spaces.SpaceFields(**body.model_dump(exclude_unset=True))


@router.post("", status_code=status.HTTP_201_CREATED)
def create_space(
    body: SpaceCreate, services: ServicesDep, db: DbDep, user: CurrentUser
) -> SpaceOut:
    space = spaces.create(db, user, _fields(body), services.settings.topics, services.clock.now())
    db.commit()
    return space_out(db, services, space)


@router.get("")
def list_spaces(
    services: ServicesDep,
    db: DbDep,
    listing: Annotated[Listing, Query(alias="state")] = "live",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    host: Annotated[
        str | None,
        Query(max_length=30, pattern=r"^[A-Za-z0-9_]+$", description="A host's username."),
    ] = None,
) -> SpacePage:
    """Spaces that are live, upcoming or recorded (replayable), newest first; of one host
    with ``host``."""
    rows, next_cursor = spaces.list_spaces(db, listing, limit, cursor, host)
    return SpacePage(items=[space_out(db, services, s) for s in rows], next_cursor=next_cursor)


@router.get("/{space_id}", responses=errors(404))
def get_space(space_id: str, services: ServicesDep, db: DbDep) -> SpaceOut:
    return space_out(db, services, spaces.get(db, space_id))


@router.patch("/{space_id}", responses=errors(403, 404, 409))
def edit_space(
    space_id: str, body: SpaceUpdate, services: ServicesDep, db: DbDep, user: CurrentUser
) -> SpaceOut:
    space = spaces.get(db, space_id)
    spaces.edit(db, space, user, _fields(body), services.settings.topics, services.clock.now())
    db.commit()
    services.generations.announce(space.id, space.media_generation)
    return space_out(db, services, space)


@router.post("/{space_id}/cancel", responses=errors(403, 404, 409))
def cancel_space(space_id: str, services: ServicesDep, db: DbDep, user: CurrentUser) -> SpaceOut:
    space = spaces.get(db, space_id)
    spaces.cancel(space, user)
    pending.drop_unfulfillable(db, space, "was canceled", services.clock.now())
    db.commit()
    return space_out(db, services, space)


@router.post("/{space_id}/start", responses=errors(403, 404, 409))
async def start_space(
    space_id: str, services: ServicesDep, rooms: RoomsDep, user: CurrentUser
) -> SpaceOut:
    """Go live: the room opens and the program (and the recording) starts."""
    await rooms.start_space(space_id, user.id)
    return await asyncio.to_thread(_space_out_by_id, services, space_id)


@router.post("/{space_id}/end", responses=errors(403, 404, 409))
async def end_space(
    space_id: str, services: ServicesDep, rooms: RoomsDep, user: CurrentUser
) -> SpaceOut:
    """End the Space (host only); its recording, if any, moves to processing."""
    await rooms.end_space(space_id, user.id)
    return await asyncio.to_thread(_space_out_by_id, services, space_id)


def _space_out_by_id(services: Services, space_id: str) -> SpaceOut:
    with services.sessions() as session:
        return space_out(session, services, spaces.get(session, space_id))


@router.post(
    "/{space_id}/tickets", status_code=status.HTTP_201_CREATED, responses=errors(403, 404, 409)
)
def issue_ticket(
    space_id: str, body: TicketRequest, services: ServicesDep, db: DbDep, user: CurrentUser
) -> TicketOut:
    """Claim a free ticket, or (host) issue one to another user, up to the capacity."""
    space = spaces.get(db, space_id)
    ticket = spaces.issue_ticket(db, space, user, services.clock.now(), body.username)
    holder = body.username or user.username
    db.commit()
    return TicketOut(space_id=space.id, username=holder, created_at=ticket.created_at)
