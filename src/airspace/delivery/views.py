"""The doors to a Space's media.

``/i/spaces/<id>/<file>`` is the address people and players know: it checks the viewer
and answers with a redirect to the same file under a grant, ``/m/<id>/<token>/<file>``.
Only granted addresses serve bytes; ``GrantedDep`` checks the grant for the app's
routes under ``/m/`` (the fast path checks it for the rest).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response

from airspace.accounts.auth import OptionalUser
from airspace.delivery.access import live_grant, replay_grant, tracks_grant
from airspace.delivery.grants import Grant
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import NotFound
from airspace.media.tags import FileTags, file_name
from airspace.recordings import services as recordings
from airspace.recordings.renditions import CONTENT_TYPES, rendition_key
from airspace.recordings.speaker_tracks import track_of

router = APIRouter(include_in_schema=False)

REPLAY_FILES = (
    "replay.m3u8",
    "replay_master.m3u8",
    "captions.vtt",
    "captions.m3u8",
    "captions_hls.vtt",
    "recording.ts",
)


def granted(space_id: str, token: str, request: Request, services: ServicesDep) -> Grant:
    """The grant in a ``/m/`` path, checked for the file asked for (403/410 otherwise)."""
    name = request.url.path.partition(f"/{token}/")[2]
    return services.grants.check(
        space_id,
        token,
        name,
        services.clock.now().timestamp(),
        services.generations.current(space_id),
    )


GrantedDep = Annotated[Grant, Depends(granted)]


def _redirect(location: str) -> Response:
    return Response(status_code=302, headers={"Location": location, "Cache-Control": "no-store"})


@router.get("/i/spaces/{space_id}/live.m3u8")
def live_playlist(space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser) -> Response:
    """The live playlist (the whole recording once ended), for whoever may listen."""
    grant = live_grant(db, space_id, user, services.clock.now())
    return _redirect(services.grants.path(grant, "live.m3u8"))


def _replay_entry(name: str) -> None:
    @router.get(f"/i/spaces/{{space_id}}/{name}", name=f"replay entry {name}")
    def entry(space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser) -> Response:
        grant, _, _ = replay_grant(db, space_id, user, services.clock.now())
        return _redirect(services.grants.path(grant, name))


for _name in REPLAY_FILES:
    _replay_entry(_name)


@router.get("/i/spaces/{space_id}/recording.{fmt}")
def rendition(
    space_id: str, fmt: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> Response:
    """The replay as one M4A, MP3 or WAV file (from the current start time), once made;
    MP3 and WAV for those who may download it."""
    if fmt not in CONTENT_TYPES:
        raise NotFound("no such file")
    grant, space, recording = replay_grant(db, space_id, user, services.clock.now())
    if fmt != "m4a":
        recordings.require_download(space, recording, user)
    key = rendition_key(recording, fmt)
    if not services.storage.exists(key):
        raise NotFound(
            f"the {fmt.upper()} file is not made yet; ask for it with "
            f"POST /api/v1/spaces/{space.id}/recording/renditions"
        )
    return _redirect(services.grants.path(grant, key.removeprefix(recording.media_prefix)))


@router.get("/i/spaces/{space_id}/download.{fmt}")
def download(
    space_id: str, fmt: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> Response:
    """The replay as a file to keep, named ``Host - Title (date).ext``: the host's, and
    listeners' when the host allows it. MP3, M4A and WAV once made; the ``.ts`` at once."""
    if fmt not in (*CONTENT_TYPES, "ts"):
        raise NotFound("no such file")
    grant, space, recording = replay_grant(db, space_id, user, services.clock.now())
    recordings.require_download(space, recording, user)
    tags = FileTags(space.title, space.host.display_name, recording.started_at)
    name = quote(file_name(tags, fmt))
    if fmt == "ts":
        return _redirect(f"{services.grants.path(grant, 'recording.ts')}?download={name}")
    key = rendition_key(recording, fmt)
    if not services.storage.exists(key):
        raise NotFound(f"the {fmt.upper()} file is not made yet")
    path = services.grants.path(grant, key.removeprefix(recording.media_prefix))
    return _redirect(f"{path}?download={name}")


@router.get("/i/spaces/{space_id}/tracks/{username}.ogg")
def speaker_track(
    space_id: str, username: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> Response:
    """One speaker's own voice through the recording (Ogg Opus, from the recording's
    start): for the host, to edit the conversation as a multitrack podcast."""
    grant, space, recording = tracks_grant(db, space_id, user, services.clock.now())
    track = track_of(db, recording.id, username)
    name = quote(
        f"{file_name(FileTags(space.title, track.speaker_name, recording.started_at), 'ogg')}"
    )
    path = services.grants.path(grant, track.key.removeprefix(recording.media_prefix))
    return _redirect(f"{path}?download={name}")
