"""What listeners fetch: the live HLS playlist of a Space and its segments.

While the Space is live both come from memory (the room's hot window), with no database
or storage access; once it has ended, a recorded Space's playlist lists every stored
segment and ends with ``EXT-X-ENDLIST``, and an unrecorded one is gone.
"""

from __future__ import annotations

import asyncio
import re

from fastapi import APIRouter, Request, Response

from airspace.accounts.auth import optional_user
from airspace.accounts.listeners import listener_of, remember_listener
from airspace.dependencies import ServicesDep
from airspace.errors import Conflict, Forbidden, Gone, NotFound
from airspace.ids import is_space_id
from airspace.live.recorder import live_prefix
from airspace.live.views import RoomsDep
from airspace.media.constants import SAMPLE_RATE, SEGMENT_SECONDS
from airspace.media.hls_segments import PlaylistEntry, media_playlist
from airspace.recordings import services as recordings
from airspace.recordings.models import RecordingState
from airspace.recordings.services import recording_for_space, segments_of
from airspace.spaces import services as spaces
from airspace.spaces.models import Space, SpaceState
from airspace.storage.interfaces import ObjectNotFound
from airspace.web.responses import fresh
from airspace.wiring import Services

router = APIRouter(include_in_schema=False)

SEGMENT_TYPE = "video/mp2t"
SEGMENT_NAME = re.compile(r"^\d{6}\.ts$")
REPLAYABLE = {RecordingState.RECORDING, RecordingState.PROCESSING, RecordingState.AVAILABLE}


@router.get("/i/spaces/{space_id}/live.m3u8")
async def live_playlist(
    space_id: str, request: Request, services: ServicesDep, rooms: RoomsDep
) -> Response:
    room = rooms.rooms.get(space_id)
    if room is None:
        await asyncio.to_thread(_require_ticket_if_ticketed, request, services, space_id)
        body = await asyncio.to_thread(_ended_playlist, services, space_id)
        return fresh(body)
    if room.state.ticketed:
        await asyncio.to_thread(_require_ticket_if_ticketed, request, services, space_id)
    listener, new_listener = listener_of(request)
    room.state.heard_listener(listener, services.clock.now().timestamp())
    response = fresh(room.recorder.segmenter.live_playlist(uri_prefix="live/"))
    if new_listener:
        remember_listener(response, listener)
    return response


def _require_ticket_if_ticketed(request: Request, services: Services, space_id: str) -> None:
    """Ticketed Spaces are for ticket holders (signed in with a session cookie or token)."""
    with services.sessions() as session:
        space = session.get(Space, space_id) if is_space_id(space_id) else None
        if space is None:
            raise NotFound("no such Space")
        if space.is_ticketed:
            user = optional_user(request, services, session)
            if not spaces.has_ticket(session, space, user):
                raise Forbidden("this Space is for ticket holders")


def _ended_playlist(services: Services, space_id: str) -> str:
    with services.sessions() as session:
        space = spaces.get(session, space_id)
        if space.state is SpaceState.SCHEDULED:
            raise Conflict("this Space has not started yet")
        if space.state is SpaceState.CANCELED:
            raise Gone("this Space was canceled")
        recording = recording_for_space(session, space_id)
        if space.state is SpaceState.LIVE:
            raise Conflict("this Space is live on another server")
        if recording is None:
            raise Gone("this Space has ended and was not recorded")
        if recording.state not in REPLAYABLE:
            raise Gone(f"this Space's recording is {recording.state.value}")
        entries = [
            PlaylistEntry(
                "live/" + segment.key.rsplit("/", 1)[-1],
                segment.samples / SAMPLE_RATE,
                segment.program_date_time,
            )
            for segment in segments_of(session, recording.id)
        ]
    return media_playlist(entries, ended=True, target_duration=SEGMENT_SECONDS)


@router.get("/i/spaces/{space_id}/live/{name}")
async def live_segment(
    space_id: str, name: str, request: Request, services: ServicesDep, rooms: RoomsDep
) -> Response:
    if not SEGMENT_NAME.match(name):
        raise NotFound("no such segment")
    room = rooms.rooms.get(space_id)
    if room is None or room.state.ticketed:
        await asyncio.to_thread(_require_ticket_if_ticketed, request, services, space_id)
    data = room.recorder.segmenter.hot.get(name) if room is not None else None
    if data is None:
        data = await asyncio.to_thread(
            _stored_segment, request, services, space_id, name, room is not None
        )
    return Response(
        data, media_type=SEGMENT_TYPE, headers={"Cache-Control": "public, max-age=86400"}
    )


def _stored_segment(
    request: Request, services: Services, space_id: str, name: str, live: bool
) -> bytes:
    if not live:
        with services.sessions() as session:
            user = optional_user(request, services, session)
            recordings.replayable(session, space_id, user, services.clock.now())
    try:
        return services.storage.get(live_prefix(space_id) + name)
    except ObjectNotFound:
        raise NotFound("no such segment") from None
