"""The listener fast path: granted media served ahead of the app.

Requests under ``/m/<space_id>/<token>/`` are checked here (pure CPU: the grant's HMAC,
its expiry, its path, and the Space's media generation in memory). What listeners ask
for most is answered right here, without FastAPI, sessions or the database:

- a live Space's playlist, from the room's memory (made once per new segment);
- its segments at the live edge, from memory; stored segments and rendition files from
  local storage (with ranges, ``ETag`` and ``Last-Modified``), or a redirect to a
  short-lived presigned URL on S3.

Everything else under ``/m/`` (replay playlists, captions, the master file, the playlist
of an ended Space) goes on to the app, whose routes check the same grant.

With nginx in front (docs/nginx/airspace.conf), nginx serves stored segments and
renditions from the media directory itself and asks ``GRANT_CHECK_PATH`` here, through
``auth_request``, whether the grant in the URL opens them: the same check, no bytes.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.responses import FileResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from airspace.accounts.listeners import LISTENER_COOKIE, MAX_LENGTH
from airspace.delivery.grants import (
    MEDIA_PREFIX,
    STORED_NAME,
    Audience,
    Grant,
    MediaGrants,
)
from airspace.delivery.policy import GRANT_SECONDS, cache_control
from airspace.errors import AirspaceError
from airspace.recordings.lifecycle import media_prefix_for

if TYPE_CHECKING:
    from airspace.delivery.generations import MediaGenerations
    from airspace.live.rooms import LiveRoom
    from airspace.storage.interfaces import Storage

PLAYLIST = b"application/vnd.apple.mpegurl"
SEGMENT = b"video/mp2t"
CONTENT_TYPES = {".ts": "video/mp2t", ".m4a": "audio/mp4", ".mp3": "audio/mpeg"}
GRANT_CHECK_PATH = "/_airspace/grant"
"""Where nginx's ``auth_request`` asks whether the grant in ``X-Original-URI`` opens its path."""
NOSNIFF = (b"x-content-type-options", b"nosniff")
PRESIGNED_SECONDS = 300
"""How long a presigned storage URL lives: what a revocation cannot reach back into."""
SEGMENT_CACHE_BYTES = 64 << 20
"""Stored segments kept in memory (about 3,000 of 20 KB): replay listeners and late
joiners ask for the same few again and again; segments never change once stored."""
_COOKIE_PREFIX = LISTENER_COOKIE.encode() + b"="


class SegmentCache:
    """The most recently served stored segments, up to ``max_bytes`` in all."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._held: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0

    def get(self, key: str) -> bytes | None:
        data = self._held.get(key)
        if data is not None:
            self._held.move_to_end(key)
        return data

    def put(self, key: str, data: bytes) -> None:
        if key in self._held:
            return
        self._held[key] = data
        self._size += len(data)
        while self._size > self.max_bytes:
            _, dropped = self._held.popitem(last=False)
            self._size -= len(dropped)


class ListenerFastPath:
    """ASGI middleware in front of the app for ``/m/`` media requests."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        grants: MediaGrants,
        generations: MediaGenerations,
        storage: Storage,
        rooms: Callable[[], dict[str, LiveRoom]],
        now: Callable[[], float],
    ) -> None:
        self.app = app
        self.grants = grants
        self.generations = generations
        self.storage = storage
        self.rooms = rooms
        self.now = now
        self.segments = SegmentCache(SEGMENT_CACHE_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(MEDIA_PREFIX):
            await self._media(scope, receive, send, path)
        elif scope["type"] == "http" and path == GRANT_CHECK_PATH:
            await self._grant_check(scope, send)
        else:
            await self.app(scope, receive, send)

    def _grant(self, path: str, now: float) -> tuple[Grant, str]:
        """The grant in the media path ``path`` and the name it is asked for; raises
        GrantRefused (403) or GrantRevoked (410)."""
        space_id, _, rest = path[len(MEDIA_PREFIX) :].partition("/")
        token, _, name = rest.partition("/")
        generation = self.generations.current(space_id)
        grant = self.grants.check(space_id, token, name, now, generation)
        self.generations.observe(space_id, grant.generation)
        return grant, name

    async def _grant_check(self, scope: Scope, send: Send) -> None:
        """nginx's ``auth_request``: 204 when the grant in ``X-Original-URI`` opens that
        stored file, with the ``Cache-Control`` its bytes get in ``X-Cache-Control``; else
        403 (also for names that are not stored files: those are the app's to serve).

        ``auth_request`` understands only 2xx, 401 and 403 (any other answer becomes a
        500), so a revoked grant is a 403 here too, its reason in the body; nginx hands
        refused requests on to the fast path, which answers them 403 or 410."""
        if scope["method"] not in ("GET", "HEAD"):
            await _json(send, 405, "grants are checked with GET")
            return
        original = _header(scope, b"x-original-uri")
        if original is None:
            await _json(send, 400, "X-Original-URI is missing")
            return
        path = original.decode("latin-1").partition("?")[0]
        if not path.startswith(MEDIA_PREFIX):
            await _json(send, 403, "this is not a media link")
            return
        now = self.now()
        try:
            grant, name = self._grant(path, now)
        except AirspaceError as error:
            await _json(send, 403, error.detail)
            return
        if not STORED_NAME.fullmatch(name):
            await _json(send, 403, "only stored media is served beside the app")
            return
        headers = [
            (b"x-cache-control", cache_control(grant, now).encode()),
            (b"cache-control", b"no-store"),
        ]
        await send(_start(204, headers))
        await send({"type": "http.response.body", "body": b""})

    async def _media(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await _json(send, 405, "media is read with GET")
            return
        now = self.now()
        try:
            grant, name = self._grant(path, now)
        except AirspaceError as error:
            await _json(send, error.status_code, error.detail)
            return
        space_id = grant.space_id
        room = self.rooms().get(space_id)
        if name == "live.m3u8" and room is not None:
            await self._live_playlist(scope, send, room, grant, now)
        elif STORED_NAME.fullmatch(name):
            data = room.recorder.hot_segment(name[5:]) if room is not None else None
            if data is None:
                data = self.segments.get(media_prefix_for(space_id) + name)
            if data is not None:
                await self._segment(scope, send, grant, name, data, now)
            else:
                await self._stored(scope, receive, send, grant, name, now)
        else:
            await self.app(scope, receive, send)

    async def _live_playlist(
        self, scope: Scope, send: Send, room: LiveRoom, grant: Grant, now: float
    ) -> None:
        if grant.seconds_left(now) < GRANT_SECONDS // 2:
            # A live grant is renewed while the Space is live here: the player follows
            # the redirect and carries on under the new one.
            renewed = Grant(
                grant.space_id,
                grant.scope,
                grant.audience,
                int(now) + GRANT_SECONDS,
                self.generations.current(grant.space_id),
            )
            location = self.grants.path(renewed, "live.m3u8").encode()
            await send(_start(302, [(b"location", location), (b"cache-control", b"no-store")]))
            await send({"type": "http.response.body", "body": b""})
            return
        headers = [
            (b"content-type", PLAYLIST),
            (
                b"cache-control",
                b"no-cache" if grant.audience is Audience.PUBLIC else b"private, no-cache",
            ),
        ]
        listener = _listener_cookie(scope)
        if listener is None:
            listener = secrets.token_urlsafe(16)
            headers.append(
                (
                    b"set-cookie",
                    f"{LISTENER_COOKIE}={listener}; HttpOnly; Max-Age=86400; Path=/; "
                    "SameSite=lax".encode(),
                )
            )
        room.state.heard_listener(listener, now)
        await _send_bytes(scope, send, room.recorder.live_playlist, headers)

    async def _segment(
        self, scope: Scope, send: Send, grant: Grant, name: str, data: bytes, now: float
    ) -> None:
        etag = f'"{grant.space_id}-{name[5:-3]}"'.encode()
        headers = [
            (b"content-type", SEGMENT),
            (b"cache-control", cache_control(grant, now).encode()),
            (b"etag", etag),
        ]
        if _header(scope, b"if-none-match") == etag:
            await send(_start(304, headers))
            await send({"type": "http.response.body", "body": b""})
            return
        await _send_bytes(scope, send, data, headers)

    async def _stored(
        self, scope: Scope, receive: Receive, send: Send, grant: Grant, name: str, now: float
    ) -> None:
        key = media_prefix_for(grant.space_id) + name
        cache = cache_control(grant, now)
        path = self.storage.file_path(key)
        if path is None:
            seconds = max(1, min(PRESIGNED_SECONDS, grant.seconds_left(now)))
            url = await asyncio.to_thread(self.storage.url, key, seconds)
            await send(
                _start(302, [(b"location", str(url).encode()), (b"cache-control", b"no-store")])
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if name.startswith("live/"):
            data = await asyncio.to_thread(_read, path)
            if data is None:
                await _json(send, 404, "no such media")
                return
            self.segments.put(key, data)
            await self._segment(scope, send, grant, name, data, now)
            return
        if not path.is_file():
            await _json(send, 404, "no such media")
            return
        headers = {"Cache-Control": cache}
        filename = None
        if name.startswith("renditions/"):
            filename = f"{grant.space_id}{Path(name).suffix}"
        response = FileResponse(
            path,
            media_type=CONTENT_TYPES[Path(name).suffix],
            headers=headers,
            filename=filename,
            content_disposition_type="inline",
        )
        await response(scope, receive, send)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


def _start(status: int, headers: list[tuple[bytes, bytes]]) -> dict[str, object]:
    return {"type": "http.response.start", "status": status, "headers": headers}


async def _send_bytes(
    scope: Scope, send: Send, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    headers.append((b"content-length", str(len(body)).encode()))
    headers.append(NOSNIFF)
    await send(_start(200, headers))
    await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})


async def _json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        _start(
            status,
            [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                NOSNIFF,
                (b"cache-control", b"no-store"),
            ],
        )
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _listener_cookie(scope: Scope) -> str | None:
    cookies = _header(scope, b"cookie")
    if cookies is None:
        return None
    for part in cookies.split(b";"):
        part = part.strip()
        if part.startswith(_COOKIE_PREFIX):
            value = part[len(_COOKIE_PREFIX) :].decode("latin-1")
            return value if 0 < len(value) <= MAX_LENGTH else None
    return None
