"""Signed, expiring grants: the only way to a Space's media bytes.

An access check (public / ticket holder / host / moderator; live / available / deleted /
expired) issues a grant; the grant rides in the media URL, ``/m/<space_id>/<token>/<name>``,
so relative URIs inside a playlist (``live/000042.ts``) carry it along. Checking one is
pure CPU — an HMAC over what it allows and a comparison with the Space's media
generation held in memory — so the listener fast path (and nginx's ``auth_request``)
can check every request without the database or storage.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass

from airspace.errors import Forbidden, Gone
from airspace.ids import is_space_id

MEDIA_PREFIX = "/m/"
MAC_BYTES = 16
"""128 bits of HMAC-SHA256: far beyond guessing, short enough for a URL."""


class Scope(enum.StrEnum):
    """Which of a Space's media a grant opens."""

    LIVE = "live"
    """The live playlist and its segments (and, once ended, the whole playlist)."""
    REPLAY = "replay"
    """Everything of the recording: playlists, segments, captions, the master file, renditions."""
    ARCHIVE = "archive"
    """An account's data archive (its id stands where a Space's would)."""
    TRACKS = "tracks"
    """The speakers' own tracks of a recording: the host's alone."""


class Audience(enum.StrEnum):
    """Who the grant was issued to: decides whether shared caches may keep the bytes."""

    PUBLIC = "public"
    """Anyone may listen (a public Space): caches may keep the bytes until the grant expires."""
    PRIVATE = "private"
    """A ticket holder, the host or a moderator: only the listener's own browser may cache."""


SEGMENT = r"live/\d{6}\.ts"
RENDITION = r"renditions/replay-\d+ms\.(?:m4a|mp3|wav)"
ARCHIVE = r"archive/airspace-data\.zip"
TRACK = r"tracks/[A-Za-z0-9_]{1,30}\.ogg"
CLIP = r"clips/[0-9A-Za-z]{13}/(?:clip\.(?:m4a|mp3)|audiogram-(?:square|portrait)\.mp4)"
_ALLOWED = {
    Scope.LIVE: re.compile(rf"live\.m3u8|{SEGMENT}"),
    Scope.REPLAY: re.compile(
        rf"live\.m3u8|{SEGMENT}|{RENDITION}|{CLIP}|replay\.m3u8|replay_master\.m3u8"
        r"|captions\.m3u8|captions_hls\.vtt|captions\.vtt|recording\.ts"
    ),
    Scope.ARCHIVE: re.compile(ARCHIVE),
    Scope.TRACKS: re.compile(TRACK),
}
STORED_NAME = re.compile(rf"{SEGMENT}|{RENDITION}|{CLIP}|{ARCHIVE}|{TRACK}")
"""Names that are stored objects under the Space's media prefix (the rest are made on request)."""


class GrantRefused(Forbidden):
    """A grant that is forged, expired, malformed or for another path (403)."""


class GrantRevoked(Gone):
    """A grant for media that has since been revoked: deleted, taken down, ticket required (410)."""


@dataclass(frozen=True, slots=True)
class Grant:
    space_id: str
    scope: Scope
    audience: Audience
    expires: int
    """Unix time, seconds, after which the grant opens nothing."""
    generation: int
    """The Space's media generation when the grant was issued."""

    def allows(self, name: str) -> bool:
        """Whether ``name`` (the part of the path after the token) is within the grant."""
        return _ALLOWED[self.scope].fullmatch(name) is not None

    @property
    def is_private(self) -> bool:
        return self.audience is Audience.PRIVATE

    def seconds_left(self, now: float) -> int:
        return max(0, int(self.expires - now))


class MediaGrants:
    """Issues and checks grants with a key derived from the instance's secret."""

    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"airspace media grants\0" + secret.encode()).digest()

    def _mac(self, space_id: str, fields: str) -> str:
        digest = hmac.new(self._key, f"{space_id}/{fields}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:MAC_BYTES]).rstrip(b"=").decode()

    def token(self, grant: Grant) -> str:
        fields = f"{grant.scope.value}.{grant.audience.value}.{grant.expires}.{grant.generation}"
        return f"{fields}.{self._mac(grant.space_id, fields)}"

    def path(self, grant: Grant, name: str) -> str:
        """The URL path of ``name`` under ``grant``."""
        return f"{MEDIA_PREFIX}{grant.space_id}/{self.token(grant)}/{name}"

    def parse(self, space_id: str, token: str) -> Grant:
        """The grant ``token`` stands for, if its signature holds; raises GrantRefused."""
        fields, _, mac = token.rpartition(".")
        parts = fields.split(".")
        if len(parts) != 4 or not is_space_id(space_id):
            raise GrantRefused("this media link is not valid; open the Space again")
        if not hmac.compare_digest(mac, self._mac(space_id, fields)):
            raise GrantRefused("this media link is not valid; open the Space again")
        scope, audience, expires, generation = parts
        return Grant(space_id, Scope(scope), Audience(audience), int(expires), int(generation))

    def check(
        self, space_id: str, token: str, name: str, now: float, current_generation: int
    ) -> Grant:
        """The grant behind a media request for ``name``, or the refusal: 403 when forged,
        expired or for another path, 410 when the media was revoked since it was issued."""
        grant = self.parse(space_id, token)
        self.check_parsed(grant, name, now, current_generation)
        return grant

    @staticmethod
    def check_parsed(grant: Grant, name: str, now: float, current_generation: int) -> None:
        """``check`` for a grant whose signature already held."""
        if grant.generation < current_generation:
            raise GrantRevoked("this recording is no longer available")
        if now >= grant.expires:
            raise GrantRefused("this media link has expired; open the Space again")
        if not grant.allows(name):
            raise GrantRefused("this media link does not open that file")
