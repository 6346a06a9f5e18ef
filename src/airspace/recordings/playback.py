"""What a replay player and an archive fetch under a grant: the VOD playlist and the
master file (the rendition files are stored objects, served by the fast path)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from airspace.delivery.access import granted_recording
from airspace.delivery.fast_path import content_disposition, download_name
from airspace.delivery.views import GrantedDep
from airspace.dependencies import DbDep, ServicesDep
from airspace.recordings import replay
from airspace.recordings import services as recordings
from airspace.web.responses import fresh

router = APIRouter(include_in_schema=False)


@router.get("/m/{space_id}/{token}/replay.m3u8")
def replay_playlist(grant: GrantedDep, db: DbDep) -> Response:
    """The replay as HLS VOD over the stored segments, from the host's start offset."""
    _, recording = granted_recording(db, grant)
    segments = recordings.segments_of(db, recording.id)
    body = replay.vod_playlist(
        segments, recording.start_offset_seconds, lambda s: "live/" + s.key.rsplit("/", 1)[-1]
    )
    return fresh(body, private=grant.is_private)


@router.get("/m/{space_id}/{token}/recording.ts")
def master_file(
    grant: GrantedDep, request: Request, services: ServicesDep, db: DbDep
) -> StreamingResponse:
    """The replay as one MPEG-TS file, streamed from the stored segments (no re-encoding)."""
    space, recording = granted_recording(db, grant)
    segments = recordings.segments_of(db, recording.id)
    offset = recording.start_offset_seconds
    return StreamingResponse(
        replay.master_ts(segments, offset, services.storage.get),
        media_type="video/mp2t",
        headers={
            "Content-Disposition": content_disposition(
                download_name(request.url.query.encode()) or f"{space.id}_0.ts"
            ),
            "Cache-Control": "private, no-store",
        },
    )
