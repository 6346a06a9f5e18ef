"""The room's events over a WebSocket, on any node.

On the node that holds the room, the socket reads the room directly. On any other node
(several ``airspace serve`` behind a balancer), it gets the room's state from the owner
through the relay, then the same events from the shared event bus, and tells the owner
when a member's page opens and closes (``room_presence_channel``): a balancer needs no
stickiness. When the room moves to another node, its events say so (``moving``,
``moved``), the socket closes, and pages reconnect (to a fresh state).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from typing import TYPE_CHECKING

from fastapi import APIRouter, WebSocket
from sqlalchemy.orm import Session

from airspace.accounts import services as accounts
from airspace.accounts.auth import session_id_from
from airspace.accounts.models import User
from airspace.errors import Conflict, Forbidden, NotFound, Unauthenticated
from airspace.live import leases
from airspace.live.forwarding import ask_app
from airspace.live.live_room import LiveRoom, room_channel, room_presence_channel
from airspace.live.room import Event
from airspace.live.rooms import LiveRooms
from airspace.spaces import services as spaces
from airspace.spaces.models import SpaceState
from airspace.web_sockets import WEBSOCKET_POLICY_VIOLATION, send_until_gone

if TYPE_CHECKING:
    from airspace.wiring import Services

router = APIRouter(prefix="/spaces/{space_id}/room", tags=["rooms"])

MAX_CLIENT_MESSAGE = 1024
WEBSOCKET_TRY_AGAIN = 1013
"""The room is between nodes for a moment: the page reconnects."""
_SAYING: set[asyncio.Task[None]] = set()
"""Presence messages on their way (kept so that none is collected before it is sent)."""
_PASSED_ON = (b"cookie", b"authorization", b"x-forwarded-for", b"x-real-ip")
"""The socket's headers that its room-state request to the owner carries."""


def _websocket_user(websocket: WebSocket, services: Services, db: Session) -> User | None:
    now = services.clock.now()
    authorization = websocket.headers.get("authorization", "")
    scheme, _, secret = authorization.partition(" ")
    if authorization:
        user = (
            accounts.user_for_token(db, secret.strip(), now)
            if scheme.lower() == "bearer" and secret.strip()
            else None
        )
        if user is None:  # as over HTTP: a bad token is refused, not taken as nobody
            raise Unauthenticated("invalid or revoked API token")
        return user
    session_id = session_id_from(websocket, services.settings)
    return accounts.user_for_session(db, session_id, now) if session_id else None


def _check_origin(websocket: WebSocket, services: Services) -> None:
    """Browsers say which page opened a socket: only this site's own pages may (a page
    elsewhere would act in the room as whoever is signed in here)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return  # not a browser: its credentials are its own
    allowed = {services.settings.public_url.lower()}
    host = websocket.headers.get("host")
    if host:
        allowed |= {f"http://{host}".lower(), f"https://{host}".lower()}
    if origin.rstrip("/").lower() not in allowed:
        raise Forbidden("this room cannot be opened from another site")


def _admit(
    websocket: WebSocket, services: Services, rooms: LiveRooms, space_id: str
) -> tuple[LiveRoom | None, int | None, str | None]:
    """The room (if held here), the member's user id, and the room's holder elsewhere;
    raises the refusal (not live, no ticket, bad credentials, another site)."""
    _check_origin(websocket, services)
    with services.sessions() as db:
        user = _websocket_user(websocket, services, db)
        space = spaces.get(db, space_id)
        if space.state is not SpaceState.LIVE:
            raise Conflict(f"this Space is {space.state.value}, not live")
        if space.is_ticketed and not spaces.has_ticket(db, space, user):
            raise Forbidden("this Space is for ticket holders")
        user_id = user.id if user is not None else None
        room = rooms.rooms.get(space_id)
        if room is not None or not rooms.takes_over:
            return rooms.get(space_id), user_id, None
        return None, user_id, leases.holder(space, services.clock.now())


@router.websocket("/events")
async def room_events(websocket: WebSocket, space_id: str) -> None:
    """The room state, then every room event as JSON text messages. Clients may send
    ``{"type": "ping"}``; anything else closes the socket (1008)."""
    services: Services = websocket.app.state.services
    rooms: LiveRooms = websocket.app.state.rooms
    try:
        room, user_id, holder = await asyncio.to_thread(
            _admit, websocket, services, rooms, space_id
        )
    except (Conflict, Forbidden, NotFound, Unauthenticated) as error:
        # Accepted first: a socket closed before the handshake reaches the browser as a
        # bare 403 (close code 1006, no reason); this way the page can say why.
        await websocket.accept()
        await websocket.close(code=WEBSOCKET_POLICY_VIOLATION, reason=error.detail[:120])
        return
    await websocket.accept()
    if room is None:
        snapshot = await _state_from_owner(websocket, space_id) if holder else None
        if snapshot is None:
            await websocket.close(code=WEBSOCKET_TRY_AGAIN, reason="the room is moving")
            return
        await _presence(services, space_id, user_id, opened=True)
        try:
            await _send_events(websocket, services, space_id, snapshot)
        finally:
            # Its own task: said even when this handler is being cancelled.
            closing = asyncio.create_task(_presence(services, space_id, user_id, opened=False))
            _SAYING.add(closing)
            closing.add_done_callback(_SAYING.discard)
        return
    if user_id is not None:
        room.page_opened(user_id)
    try:
        await _send_events(websocket, services, space_id, _snapshot(services, room))
    finally:
        if user_id is not None:
            room.page_closed(user_id)


def _snapshot(services: Services, room: LiveRoom) -> Event:
    return room.state.snapshot(services.clock.now().timestamp())


async def _state_from_owner(websocket: WebSocket, space_id: str) -> Event | None:
    """The room's state from the node holding it, asked as the socket's own user."""
    headers = [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in websocket.scope["headers"]
        if k in _PASSED_ON
    ]
    path = f"/api/v1/spaces/{space_id}/room"
    answer = await ask_app(websocket.app, "GET", path, headers, websocket.scope.get("client"))
    if answer["status"] != 200:
        return None
    state: Event = json.loads(base64.b64decode(answer["body"]))
    return state


async def _presence(services: Services, space_id: str, user_id: int | None, opened: bool) -> None:
    if user_id is not None:
        channel = room_presence_channel(space_id)
        with contextlib.suppress(Exception):  # the owner's grace period covers a lost one
            await services.events.publish(channel, {"user_id": user_id, "opened": opened})


async def _send_events(
    websocket: WebSocket, services: Services, space_id: str, snapshot: Event
) -> None:
    async with services.events.subscribe(room_channel(space_id)) as subscription:
        await websocket.send_json(snapshot)

        async def send(event: Event) -> bool:
            await websocket.send_json(event)
            return event.get("type") not in ("ended", "moving", "moved")

        await send_until_gone(websocket, subscription.get, send, _read_client(websocket))


async def _read_client(websocket: WebSocket) -> None:
    """Answer pings; close the socket on anything else. Returns when the client is gone."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        try:
            parsed = (
                json.loads(text) if text is not None and len(text) <= MAX_CLIENT_MESSAGE else None
            )
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or parsed.get("type") != "ping":
            await websocket.close(code=WEBSOCKET_POLICY_VIOLATION, reason="unexpected message")
            return
        await websocket.send_json({"type": "pong"})
