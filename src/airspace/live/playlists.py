"""The live playlist of a Space that is not live in this process, under a grant.

While a Space is live here, the listener fast path serves its playlist and segments from
the room's memory. Otherwise this route answers: a Space live on another node gets its
latest stored segments (a recorded Space lists each one as soon as it is durable), and an
ended recorded Space's playlist lists every segment and ends with ``EXT-X-ENDLIST``.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from airspace.delivery.views import GrantedDep
from airspace.dependencies import DbDep
from airspace.errors import Conflict, Gone
from airspace.media.constants import SAMPLE_RATE, SEGMENT_SECONDS
from airspace.media.hls_segments import PlaylistEntry, media_playlist
from airspace.media.live_segmenter import HOT_WINDOW, LIVE_URI_PREFIX
from airspace.recordings.services import recording_for_space, segments_of
from airspace.spaces import services as spaces
from airspace.spaces.models import SpaceState
from airspace.web.responses import fresh

router = APIRouter(include_in_schema=False)


@router.get("/m/{space_id}/{token}/live.m3u8")
def live_playlist(grant: GrantedDep, db: DbDep) -> Response:
    space = spaces.get(db, grant.space_id)
    recording = recording_for_space(db, space.id)
    if recording is None:
        if space.state is SpaceState.LIVE:
            raise Conflict("this Space is live on another server")
        raise Gone("this Space has ended and was not recorded")
    segments = segments_of(db, recording.id)
    live = space.state is SpaceState.LIVE
    shown = segments[-HOT_WINDOW:] if live else segments
    entries = [
        PlaylistEntry(
            LIVE_URI_PREFIX + segment.key.rsplit("/", 1)[-1],
            segment.samples / SAMPLE_RATE,
            segment.program_date_time,
            segment.discontinuity,
        )
        for segment in shown
    ]
    body = media_playlist(
        entries,
        media_sequence=shown[0].sequence if shown else 0,
        ended=not live,
        target_duration=SEGMENT_SECONDS,
    )
    return fresh(body, private=grant.is_private)
