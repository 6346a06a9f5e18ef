"""The room API: join, ask to speak, moderate, publish a microphone; the room's events
over a WebSocket."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from airspace.accounts import services as accounts
from airspace.accounts.auth import CurrentUser, OptionalUser
from airspace.accounts.listeners import listener_of, remember_listener
from airspace.accounts.models import User
from airspace.api_contract import errors
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import Conflict, Forbidden
from airspace.inputs import InputModel
from airspace.live.live_room import LiveRoom
from airspace.live.room import Event, Member
from airspace.live.rooms import LiveRooms
from airspace.media.engine import MediaOverloaded
from airspace.ratelimit import Limit, take
from airspace.spaces import services as spaces
from airspace.spaces.models import SpaceState
from airspace.wiring import Services

logger = logging.getLogger(__name__)
router = APIRouter(
    prefix="/spaces/{space_id}/room",
    tags=["rooms"],
    responses=errors(403, 404, 409),  # the room's own checks: it exists, is live, tickets
)
SPEAK_REQUESTS = Limit("speak-requests", 5, timedelta(minutes=10))
"""Hands one member may raise in one Space: enough to ask again, not to flood the host."""

MAX_CLIENT_MESSAGE = 1024


def get_rooms(request: Request) -> LiveRooms:
    rooms: LiveRooms = request.app.state.rooms
    return rooms


RoomsDep = Annotated[LiveRooms, Depends(get_rooms)]


class Username(InputModel):
    username: str = Field(min_length=1, max_length=30)


class Offer(InputModel):
    type: Literal["offer"]
    sdp: str = Field(max_length=64_000, description="A WebRTC offer with Opus audio.")


class SessionDescription(BaseModel):
    type: Literal["answer"]
    sdp: str


def _check_room(db: Session, rooms: LiveRooms, space_id: str, user: User | None) -> LiveRoom:
    space = spaces.get(db, space_id)
    if space.state is not SpaceState.LIVE:
        raise Conflict(f"this Space is {space.state.value}, not live")
    if space.is_ticketed and not spaces.has_ticket(db, space, user):
        raise Forbidden("this Space is for ticket holders")
    return rooms.get(space_id)


async def _live_room(db: Session, rooms: LiveRooms, space_id: str, user: User | None) -> LiveRoom:
    """The live room of ``space_id`` if ``user`` may be in it. The database is read on a
    worker thread and the connection returned at once: the event loop carries the media
    and must never wait for a pooled connection."""

    def check() -> LiveRoom:
        try:
            return _check_room(db, rooms, space_id, user)
        finally:
            db.close()

    return await asyncio.to_thread(check)


def _snapshot(services: Services, room: LiveRoom) -> Event:
    return room.state.snapshot(services.clock.now().timestamp())


@router.get("")
async def room_state(
    space_id: str, services: ServicesDep, db: DbDep, rooms: RoomsDep, user: OptionalUser
) -> Event:
    """Who is in the room, with roles, microphones and the recording indicator."""
    return _snapshot(services, await _live_room(db, rooms, space_id, user))


@router.post("/join", responses=errors(403))
async def join(
    space_id: str,
    request: Request,
    response: Response,
    services: ServicesDep,
    db: DbDep,
    rooms: RoomsDep,
    user: CurrentUser,
) -> Event:
    """Enter the room as a listener (the host enters as host). Returns the room state."""
    room = await _live_room(db, rooms, space_id, user)
    session, new = listener_of(request)
    if new:  # this browser's later playlist fetches are then known to be this member's
        remember_listener(response, session)
    event = room.state.join(user.id, user.username, user.display_name, session)
    if event is not None:
        room.publish(event)
    return _snapshot(services, room)


@router.post("/leave")
async def leave(space_id: str, db: DbDep, rooms: RoomsDep, user: CurrentUser) -> dict[str, bool]:
    room = await _live_room(db, rooms, space_id, user)
    await rooms.engine.remove_speaker(space_id, str(user.id))
    event = room.state.leave(user.id)
    if event is not None:
        room.publish(event)
    return {"left": event is not None}


@router.post("/requests", responses=errors(403, 409, 429))
async def ask_to_speak(
    space_id: str, services: ServicesDep, db: DbDep, rooms: RoomsDep, user: CurrentUser
) -> Event:
    """Raise your hand: the host and co-hosts see the request and may approve it (at most
    ``SPEAK_REQUESTS`` times in its window: 429 with ``Retry-After`` after that)."""
    room = await _live_room(db, rooms, space_id, user)
    now = services.clock.now()
    key = f"{space_id}:{user.id}"
    await asyncio.to_thread(take, services.limits, SPEAK_REQUESTS, key, now, "requests to speak")
    blocked = await asyncio.to_thread(_is_blocked, db, room.state.host_id, user.id)
    event = room.state.ask_to_speak(user.id, blocked)
    room.publish(event)
    return event


async def _member_blocked(db: Session, room: LiveRoom, username: str) -> bool:
    """Whether the host has blocked the room member ``username`` (404 if not in the room)."""
    member = room.state.by_username(username)
    return await asyncio.to_thread(_is_blocked, db, room.state.host_id, member.user_id)


def _is_blocked(db: Session, host_id: int, user_id: int) -> bool:
    try:
        return accounts.is_blocked(db, host_id, user_id)
    finally:
        db.close()


@router.post("/speakers", responses=errors(403, 404, 409))
async def approve(
    space_id: str, body: Username, db: DbDep, rooms: RoomsDep, user: CurrentUser
) -> Event:
    """Give a listener a microphone (host and co-hosts); 409 when all 13 are taken."""
    room = await _live_room(db, rooms, space_id, user)
    blocked = await _member_blocked(db, room, body.username)
    event = room.state.approve(user.id, body.username, blocked)
    room.publish(event)
    return event


@router.post("/cohosts", responses=errors(403, 404, 409))
async def add_cohost(
    space_id: str, body: Username, db: DbDep, rooms: RoomsDep, user: CurrentUser
) -> Event:
    """Make someone in the room a co-host (host only; at most 2)."""
    room = await _live_room(db, rooms, space_id, user)
    blocked = await _member_blocked(db, room, body.username)
    event = room.state.add_cohost(user.id, body.username, blocked)
    room.publish(event)
    return event


async def _set_muted(
    space_id: str, username: str, muted: bool, db: Session, rooms: LiveRooms, user: User
) -> Event:
    room = await _live_room(db, rooms, space_id, user)
    event = room.state.set_muted(user.id, username, muted)
    target = room.state.by_username(username)
    await rooms.engine.set_muted(space_id, str(target.user_id), muted)
    room.publish(event)
    return event


@router.post("/members/{username}/mute", responses=errors(403, 404, 409))
async def mute(
    space_id: str, username: str, db: DbDep, rooms: RoomsDep, user: CurrentUser
) -> Event:
    """Mute a speaker (yourself, or anyone below you as host or co-host)."""
    return await _set_muted(space_id, username, True, db, rooms, user)


@router.post("/members/{username}/unmute", responses=errors(403, 404, 409))
async def unmute(
    space_id: str, username: str, db: DbDep, rooms: RoomsDep, user: CurrentUser
) -> Event:
    """Turn your own microphone back on."""
    return await _set_muted(space_id, username, False, db, rooms, user)


@router.post("/members/{username}/listener", responses=errors(403, 404, 409))
async def make_listener(
    space_id: str, username: str, db: DbDep, rooms: RoomsDep, user: CurrentUser
) -> Event:
    """Move a speaker back to the audience (or step down yourself)."""
    room = await _live_room(db, rooms, space_id, user)
    event = room.state.make_listener(user.id, username)
    await _disconnect_microphone(rooms, room, room.state.by_username(username))
    room.publish(event)
    return event


@router.delete("/members/{username}", responses=errors(403, 404))
async def remove(
    space_id: str, username: str, db: DbDep, rooms: RoomsDep, user: CurrentUser
) -> Event:
    """Put someone out of the room for the rest of the Space (host and co-hosts)."""
    room = await _live_room(db, rooms, space_id, user)
    target = room.state.by_username(username)
    event = room.state.remove(user.id, username)
    await _disconnect_microphone(rooms, room, target)
    room.publish(event)
    return event


@router.post("/microphone", responses=errors(400, 403, 503))
async def publish_microphone(
    space_id: str, body: Offer, db: DbDep, rooms: RoomsDep, user: CurrentUser
) -> SessionDescription:
    """Connect your microphone: send a WebRTC offer (Opus audio), get the answer. The
    answer's return track carries everyone else in the room."""
    room = await _live_room(db, rooms, space_id, user)
    if not room.state.can_publish(user.id):
        raise Forbidden("only the host, co-hosts and approved speakers can use a microphone")
    try:
        answer = await rooms.engine.add_speaker(space_id, str(user.id), body.sdp)
    except MediaOverloaded as refused:
        logger.warning("space %s: microphone of %s refused: %s", space_id, user.username, refused)
        room.publish(room.state.event("media_overloaded", room.state.member(user.id)))
        raise
    member = room.state.member(user.id)
    member.connected = True
    await rooms.engine.set_muted(space_id, str(user.id), member.muted)
    room.publish(room.state.event("microphone_connected", member))
    return SessionDescription(type="answer", sdp=answer)


@router.delete("/microphone")
async def disconnect_microphone(
    space_id: str, db: DbDep, rooms: RoomsDep, user: CurrentUser
) -> dict[str, bool]:
    room = await _live_room(db, rooms, space_id, user)
    member = room.state.members.get(user.id)
    if member is not None:
        await _disconnect_microphone(rooms, room, member)
    else:
        await rooms.engine.remove_speaker(space_id, str(user.id))
    return {"connected": False}


async def _disconnect_microphone(rooms: LiveRooms, room: LiveRoom, member: Member) -> None:
    """Close a member's WebRTC leg, if they have one; the room keeps them."""
    member.connected = False
    await rooms.engine.remove_speaker(room.space_id, str(member.user_id))
