"""Captions and transcripts of replays, and transcript search."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from airspace.accounts.auth import OptionalUser
from airspace.api_contract import errors
from airspace.captions.search import SearchResult, transcript_hits
from airspace.captions.services import cues_of
from airspace.captions.transcript import on_replay_clock, podcast_transcript, webvtt
from airspace.delivery.access import granted_recording
from airspace.delivery.grants import Grant
from airspace.delivery.views import GrantedDep
from airspace.dependencies import DbDep, ServicesDep
from airspace.media.constants import MPEGTS_CLOCK
from airspace.media.hls_segments import (
    PlaylistEntry,
    SubtitlesEntry,
    master_playlist,
    media_playlist,
)
from airspace.recordings import services as recordings
from airspace.recordings.views import REPLAY_ERRORS
from airspace.web.responses import VTT_TYPE, fresh

api = APIRouter(tags=["captions"])
media = APIRouter(include_in_schema=False)


@api.get("/spaces/{space_id}/recording/transcript", responses=errors(*REPLAY_ERRORS))
def transcript(
    space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> dict[str, Any]:
    """The transcript in the Podcasting 2.0 JSON shape, on the replay's clock."""
    _, recording = recordings.replayable(db, space_id, user, services.clock.now())
    cues = on_replay_clock(cues_of(db, recording.id), recording.start_offset_seconds)
    return podcast_transcript(cues)


@api.get("/search")
def search_transcripts(
    q: Annotated[str, Query(min_length=1, max_length=200)],
    services: ServicesDep,
    db: DbDep,
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[SearchResult]:
    """Recordings in which the words of ``q`` were spoken, with the time of each hit.
    Only public recordings that are replayable now are searched."""
    return transcript_hits(db, q, limit, services.clock.now(), services.settings.public_url)


def _captions(grant: Grant, db: DbDep, for_hls: bool) -> Response:
    _, recording = granted_recording(db, grant)
    offset = recording.start_offset_seconds
    cues = on_replay_clock(cues_of(db, recording.id), offset)
    body = webvtt(cues, round(offset * MPEGTS_CLOCK) if for_hls else None)
    return fresh(body, VTT_TYPE, private=grant.is_private)


@media.get("/m/{space_id}/{token}/captions.vtt")
def captions_file(grant: GrantedDep, db: DbDep) -> Response:
    """Captions for a ``<track>`` element: WebVTT with ``<v Speaker>`` voices."""
    return _captions(grant, db, for_hls=False)


@media.get("/m/{space_id}/{token}/captions_hls.vtt")
def captions_for_hls(grant: GrantedDep, db: DbDep) -> Response:
    return _captions(grant, db, for_hls=True)


@media.get("/m/{space_id}/{token}/captions.m3u8")
def captions_playlist(grant: GrantedDep, db: DbDep) -> Response:
    """The HLS subtitles rendition: one WebVTT file over the whole replay."""
    _, recording = granted_recording(db, grant)
    seconds = max(0.001, (recording.duration_seconds or 0.0) - recording.start_offset_seconds)
    body = media_playlist([PlaylistEntry("captions_hls.vtt", seconds)], vod=True)
    return fresh(body, private=grant.is_private)


@media.get("/m/{space_id}/{token}/replay_master.m3u8")
def replay_master(grant: GrantedDep, db: DbDep) -> Response:
    """The replay with its captions: a master playlist naming the audio and subtitles."""
    granted_recording(db, grant)
    captions = SubtitlesEntry("captions.m3u8")
    body = master_playlist("replay.m3u8", 72_000, "mp4a.40.2", captions)
    return fresh(body, private=grant.is_private)


OPEN_TO_ALL = {"Access-Control-Allow-Origin": "*"}
"""Podcast apps on other sites read transcripts of published recordings."""


@media.get("/i/spaces/{space_id}/transcript.vtt")
def transcript_vtt(space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser) -> Response:
    """The transcript as WebVTT with ``<v>`` voices, on the replay's clock, for any site."""
    _, recording = recordings.replayable(db, space_id, user, services.clock.now())
    cues = on_replay_clock(cues_of(db, recording.id), recording.start_offset_seconds)
    return Response(webvtt(cues), media_type=VTT_TYPE, headers=OPEN_TO_ALL)


@media.get("/i/spaces/{space_id}/transcript.json")
def transcript_json(
    space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> Response:
    """The transcript in the Podcasting 2.0 JSON shape, for any site."""
    body = json.dumps(transcript(space_id, services, db, user), ensure_ascii=False)
    return Response(body, media_type="application/json", headers=OPEN_TO_ALL)
