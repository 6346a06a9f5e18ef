"""Media from local storage, with byte ranges (players seek with them)."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter
from fastapi.responses import FileResponse

from airspace.dependencies import ServicesDep
from airspace.errors import NotFound
from airspace.storage.interfaces import StorageKeyError
from airspace.storage.local import LocalStorage

router = APIRouter(include_in_schema=False)

mimetypes.add_type("application/vnd.apple.mpegurl", ".m3u8")
mimetypes.add_type("video/mp2t", ".ts")
mimetypes.add_type("text/vtt", ".vtt")


@router.get("/media/{key:path}")
def media(key: str, services: ServicesDep) -> FileResponse:
    storage = services.storage
    assert isinstance(storage, LocalStorage)
    try:
        path = storage.path(key)
    except StorageKeyError:
        raise NotFound("no such media") from None
    if not path.is_file():
        raise NotFound("no such media")
    return FileResponse(path)
