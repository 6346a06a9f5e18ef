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
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote

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
from airspace.media.tags import UNSAFE
from airspace.recordings.lifecycle import media_prefix_for

if TYPE_CHECKING:
    from airspace.delivery.generations import MediaGenerations
    from airspace.live.live_room import LiveRoom
    from airspace.storage.interfaces import Storage

PLAYLIST = b"application/vnd.apple.mpegurl"
SEGMENT = b"video/mp2t"
CONTENT_TYPES = {
    ".ts": "video/mp2t",
    ".m4a": "audio/mp4",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".mp4": "video/mp4",
    ".zip": "application/zip",
    ".ogg": "audio/ogg",
}
GRANT_CHECK_PATH = "/_airspace/grant"
"""Where nginx's ``auth_request`` asks whether the grant in ``X-Original-URI`` opens its path."""
NOSNIFF = (b"x-content-type-options", b"nosniff")
PRESIGNED_SECONDS = 300
"""How long a presigned storage URL lives: what a revocation cannot reach back into."""
SEGMENT_CACHE_BYTES = 64 << 20
"""Stored segments kept in memory (about 3,000 of 20 KB): replay listeners and late
joiners ask for the same few again and again; segments never change once stored."""
VERIFIED_GRANTS = 10_000
"""Grants whose signature was checked, kept to skip the HMAC on their next request (a
listener makes dozens under one grant); expiry, path and generation are checked each time."""
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


@dataclass(slots=True)
class MediaAnswer:
    """A whole response, known without waiting on anything: what most listener requests get."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""


class ListenerFastPath:
    """ASGI middleware in front of the app for ``/m/`` media requests.

    ``answer`` is the synchronous core: the HTTP protocol (``delivery.http_protocol``)
    calls it straight from its parser, and this middleware calls it for servers that
    speak only ASGI; what it cannot answer at once (a file to read, a presigned URL to
    make, a route of the app) goes on asynchronously."""

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
        self._verified: dict[tuple[str, str], Grant] = {}
        self._cache_headers: dict[tuple[Audience, int, int], bytes] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(MEDIA_PREFIX):
            answer = self.answer(scope["method"], path, scope["headers"])
            if answer is not None:
                await _send(scope, send, answer)
            else:
                await self._later(scope, receive, send, path)
        elif scope["type"] == "http" and path == GRANT_CHECK_PATH:
            await _send(scope, send, self._grant_check(scope))
        else:
            await self.app(scope, receive, send)

    def _grant(self, path: str, now: float) -> tuple[Grant, str]:
        """The grant in the media path ``path`` and the name it is asked for; raises
        GrantRefused (403) or GrantRevoked (410)."""
        space_id, _, rest = path[len(MEDIA_PREFIX) :].partition("/")
        token, _, name = rest.partition("/")
        generation = self.generations.current(space_id)
        grant = self._verified.get((space_id, token))
        if grant is None:
            grant = self.grants.check(space_id, token, name, now, generation)
            if len(self._verified) >= VERIFIED_GRANTS:
                self._verified.clear()
            self._verified[(space_id, token)] = grant
        else:
            self.grants.check_parsed(grant, name, now, generation)
        self.generations.observe(space_id, grant.generation)
        return grant, name

    def _grant_check(self, scope: Scope) -> MediaAnswer:
        """nginx's ``auth_request``: 204 when the grant in ``X-Original-URI`` opens that
        stored file, with the ``Cache-Control`` its bytes get in ``X-Cache-Control``; else
        403 (also for names that are not stored files: those are the app's to serve).

        ``auth_request`` understands only 2xx, 401 and 403 (any other answer becomes a
        500), so a revoked grant is a 403 here too, its reason in the body; nginx hands
        refused requests on to the fast path, which answers them 403 or 410."""
        if scope["method"] not in ("GET", "HEAD"):
            return _json(405, "grants are checked with GET")
        original = _header(scope["headers"], b"x-original-uri")
        if original is None:
            return _json(400, "X-Original-URI is missing")
        path = original.decode("latin-1").partition("?")[0]
        if not path.startswith(MEDIA_PREFIX):
            return _json(403, "this is not a media link")
        now = self.now()
        try:
            grant, name = self._grant(path, now)
        except AirspaceError as error:
            return _json(403, error.detail)
        if not STORED_NAME.fullmatch(name):
            return _json(403, "only stored media is served beside the app")
        headers = [
            (b"x-cache-control", cache_control(grant, now).encode()),
            (b"cache-control", b"no-store"),
        ]
        return MediaAnswer(204, headers)

    def answer(
        self, method: str, path: str, headers: list[tuple[bytes, bytes]]
    ) -> MediaAnswer | None:
        """The whole answer to a media request for ``path``, when it is known at once:
        a refusal, the live playlist, a segment in memory. None when it needs waiting
        (a file to read, a URL to presign) or the app (replay playlists, captions)."""
        if method not in ("GET", "HEAD"):
            return _json(405, "media is read with GET")
        now = self.now()
        try:
            grant, name = self._grant(path, now)
        except AirspaceError as error:
            return _json(error.status_code, error.detail)
        space_id = grant.space_id
        room = self.rooms().get(space_id)
        if name == "live.m3u8":
            return self._live_playlist(headers, room, grant, now) if room is not None else None
        if not STORED_NAME.fullmatch(name):
            return None
        data = room.segment(name[5:]) if room is not None else None
        if data is None:
            data = self.segments.get(media_prefix_for(space_id) + name)
        return self._segment(headers, grant, name, data, now) if data is not None else None

    async def _later(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        """What ``answer`` left: stored files and the app's routes."""
        now = self.now()
        try:
            grant, name = self._grant(path, now)
        except AirspaceError as error:  # revoked between the two looks
            await _send(scope, send, _json(error.status_code, error.detail))
            return
        if STORED_NAME.fullmatch(name):
            await self._stored(scope, receive, send, grant, name, now)
        else:
            await self.app(scope, receive, send)

    def _live_playlist(
        self, headers: list[tuple[bytes, bytes]], room: LiveRoom, grant: Grant, now: float
    ) -> MediaAnswer:
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
            return MediaAnswer(302, [(b"location", location), (b"cache-control", b"no-store")])
        sent = [
            (b"content-type", PLAYLIST),
            (
                b"cache-control",
                b"no-cache" if grant.audience is Audience.PUBLIC else b"private, no-cache",
            ),
            NOSNIFF,
        ]
        listener = _listener_cookie(headers)
        if listener is None:
            listener = secrets.token_urlsafe(16)
            sent.append(
                (
                    b"set-cookie",
                    f"{LISTENER_COOKIE}={listener}; HttpOnly; Max-Age=86400; Path=/; "
                    "SameSite=lax".encode(),
                )
            )
        room.state.heard_listener(listener, now)
        return MediaAnswer(200, sent, room.playlist())

    def _segment(
        self,
        headers: list[tuple[bytes, bytes]],
        grant: Grant,
        name: str,
        data: bytes,
        now: float,
    ) -> MediaAnswer:
        etag = f'"{grant.space_id}-{name[5:-3]}"'.encode()
        sent = [
            (b"content-type", SEGMENT),
            (b"cache-control", self._cache_header(grant, now)),
            (b"etag", etag),
            NOSNIFF,
        ]
        if _header(headers, b"if-none-match") == etag:
            return MediaAnswer(304, sent)
        return MediaAnswer(200, sent, data)

    def _cache_header(self, grant: Grant, now: float) -> bytes:
        """``Cache-Control`` of the bytes ``grant`` opens, made once a second per grant."""
        key = (grant.audience, grant.expires, int(now))
        header = self._cache_headers.get(key)
        if header is None:
            if len(self._cache_headers) >= VERIFIED_GRANTS:
                self._cache_headers.clear()
            header = self._cache_headers[key] = cache_control(grant, int(now)).encode()
        return header

    async def _stored(
        self, scope: Scope, receive: Receive, send: Send, grant: Grant, name: str, now: float
    ) -> None:
        key = media_prefix_for(grant.space_id) + name
        cache = cache_control(grant, now)
        path = self.storage.file_path(key)
        if path is None:
            seconds = max(1, min(PRESIGNED_SECONDS, grant.seconds_left(now)))
            url = await asyncio.to_thread(self.storage.url, key, seconds)
            location = str(url).encode()
            redirect = MediaAnswer(302, [(b"location", location), (b"cache-control", b"no-store")])
            await _send(scope, send, redirect)
            return
        if name.startswith("live/"):
            data = await asyncio.to_thread(_read, path)
            if data is None:
                await _send(scope, send, _json(404, "no such media"))
                return
            self.segments.put(key, data)
            await _send(scope, send, self._segment(scope["headers"], grant, name, data, now))
            return
        if not path.is_file():
            await _send(scope, send, _json(404, "no such media"))
            return
        headers = {"Cache-Control": cache}
        asked = download_name(scope.get("query_string", b""))
        if asked is not None:
            headers["Content-Disposition"] = content_disposition(asked)
        elif name.startswith("renditions/"):
            suffix = Path(name).suffix
            headers["Content-Disposition"] = content_disposition(
                f"{grant.space_id}{suffix}", "inline"
            )
        elif name.startswith("archive/"):
            headers["Content-Disposition"] = content_disposition(Path(name).name)
        response = FileResponse(path, media_type=CONTENT_TYPES[Path(name).suffix], headers=headers)
        await response(scope, receive, send)


def download_name(query: bytes) -> str | None:
    """The file name a download link asks for (``?download=``), made safe."""
    values = parse_qs(query.decode("latin-1")).get("download")
    if not values:
        return None
    name = UNSAFE.sub(" ", values[0]).strip(" .")[:200]
    return name or None


def content_disposition(name: str, disposition: str = "attachment") -> str:
    """The header for a file saved as ``name`` (RFC 6266, with a plain ASCII fallback)."""
    fallback = name.encode("ascii", "replace").decode().replace('"', "'")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


async def _send(scope: Scope, send: Send, answer: MediaAnswer) -> None:
    headers = answer.headers
    if answer.status not in (204, 304):
        headers = [*headers, (b"content-length", str(len(answer.body)).encode())]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    body = b"" if scope["method"] == "HEAD" else answer.body
    await send({"type": "http.response.body", "body": body})


def _json(status: int, detail: str) -> MediaAnswer:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), NOSNIFF, (b"cache-control", b"no-store")]
    return MediaAnswer(status, headers, body)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return bytes(value)
    return None


def _listener_cookie(headers: list[tuple[bytes, bytes]]) -> str | None:
    cookies = _header(headers, b"cookie")
    if cookies is None:
        return None
    for part in cookies.split(b";"):
        part = part.strip()
        if part.startswith(_COOKIE_PREFIX):
            value = part[len(_COOKIE_PREFIX) :].decode("latin-1")
            return value if 0 < len(value) <= MAX_LENGTH else None
    return None
