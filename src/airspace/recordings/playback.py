"""What a replay player and an archive fetch: the VOD playlist and the master file."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse

from airspace.accounts.auth import OptionalUser
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import NotFound
from airspace.recordings import replay
from airspace.recordings import services as recordings
from airspace.recordings.renditions import CONTENT_TYPES, rendition_key
from airspace.storage.local import LocalStorage
from airspace.web.responses import fresh

router = APIRouter(include_in_schema=False)


@router.get("/i/spaces/{space_id}/replay.m3u8")
def replay_playlist(
    space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> Response:
    """The replay as HLS VOD over the stored segments, from the host's start offset."""
    _, recording = recordings.replayable(db, space_id, user, services.clock.now())
    segments = recordings.segments_of(db, recording.id)
    body = replay.vod_playlist(
        segments, recording.start_offset_seconds, lambda s: "live/" + s.key.rsplit("/", 1)[-1]
    )
    return fresh(body)


@router.get("/i/spaces/{space_id}/recording.ts")
def master_file(
    space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> StreamingResponse:
    """The replay as one MPEG-TS file, streamed from the stored segments (no re-encoding)."""
    space, recording = recordings.replayable(db, space_id, user, services.clock.now())
    segments = recordings.segments_of(db, recording.id)
    offset = recording.start_offset_seconds
    return StreamingResponse(
        replay.master_ts(segments, offset, services.storage.get),
        media_type="video/mp2t",
        headers={"Content-Disposition": f'attachment; filename="{space.id}_0.ts"'},
    )


@router.get("/i/spaces/{space_id}/recording.{fmt}")
def rendition_file(
    space_id: str, fmt: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> Response:
    """The replay as one M4A or MP3 file, once its job has made it."""
    if fmt not in CONTENT_TYPES:
        raise NotFound("no such file")
    space, recording = recordings.replayable(db, space_id, user, services.clock.now())
    key = rendition_key(recording, fmt)
    if not services.storage.exists(key):
        raise NotFound(
            f"the {fmt.upper()} file is not made yet; ask for it with "
            f"POST /api/v1/spaces/{space_id}/recording/renditions"
        )
    filename = f"{space.id}.{fmt}"
    if isinstance(services.storage, LocalStorage):
        return FileResponse(
            services.storage.path(key), media_type=CONTENT_TYPES[fmt], filename=filename
        )
    return RedirectResponse(services.storage.url(key), status_code=307)
