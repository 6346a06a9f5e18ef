"""What a link points at: the playlist to download and what to call the file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from airspace.downloader.errors import (
    DownloadError,
    NotRecorded,
    PlaylistError,
    RecordingDeleted,
    RecordingExpired,
    SpaceIsLive,
    SpaceNotFound,
    SpacePrivate,
    UnsupportedURL,
)
from airspace.downloader.net import Fetched, Http

SPACE_PATH = re.compile(r"^/i/spaces/([A-Za-z0-9]{13})(?:/embed|/peek)?/?$")
TWEET_PATH = re.compile(r"^/(?:[A-Za-z0-9_]{1,15}|i/web|i)/status(?:es)?/(\d{1,25})(?:/.*)?$")
"""A tweet on X (``/<user>/status/<id>``, with any suffix: ``/photo/1``, a share query)."""
X_DOMAINS = ("x.com", "twitter.com", "vxtwitter.com", "fxtwitter.com", "fixupx.com", "fixvx.com")
"""X and the mirrors people paste links of (they fix X's embeds in chat apps and keep X's
paths: ``vxtwitter.com/<user>/status/<id>`` is the tweet ``x.com/<user>/status/<id>``)."""
X_HOSTS = frozenset(
    f"{prefix}{domain}" for domain in X_DOMAINS for prefix in ("", "www.", "mobile.", "m.", "d.")
)
PLAYLIST_MAX_BYTES = 8 * 1024 * 1024


@dataclass
class SpaceInfo:
    """What the file is named and tagged with."""

    title: str = "Space"
    host: str = "unknown host"
    space_id: str = ""
    date: datetime | None = None
    link: str = ""
    cover_url: str | None = None
    transcript_url: str | None = None
    """The instance's own transcript of the replay (Podcasting 2.0 JSON), if it has one."""
    chapters: tuple[tuple[float, str], ...] = ()
    """(start in seconds of the file, title), from the Space's instance."""
    participants: tuple[tuple[str, str], ...] = ()
    """(role, name) of those on stage, where the source says (X: hosts and speakers)."""


@dataclass
class Source:
    """A resolved link: the playlist to read, and how."""

    playlist_url: str
    """A master or media playlist; for a live Space, the live one."""
    info: SpaceInfo
    start_offset: float = 0.0
    """Seconds to skip from the playlist's start (the host's edited start time)."""
    is_live: bool = False
    replay_playlist_url: str | None = None
    """For a live Space followed with --live: where the earlier part will be, once it ends."""
    headers: dict[str, str] = field(default_factory=dict)


def classify(url: str) -> str:
    """``x``, ``airspace`` or ``hls``; raises UnsupportedURL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # a broken IPv6 literal is the one thing urlsplit refuses
        raise UnsupportedURL(f"not a link (the address in brackets is not IPv6): {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsupportedURL(f"not an http(s) link: {url!r}")
    on_x = parts.hostname.lower() in X_HOSTS
    if SPACE_PATH.match(parts.path):
        return "x" if on_x else "airspace"
    if on_x and TWEET_PATH.match(parts.path):
        return "x"  # a tweet, whose card may be a Space
    return "hls"


CLIP_PATH = re.compile(r"^/i/clips/([A-Za-z0-9]{13})(?:/embed)?/?$")


def clip_id_from(url: str) -> str | None:
    """The clip an Airspace clip link (``/i/clips/<id>``, any instance) points at."""
    try:
        found = CLIP_PATH.match(urlsplit(url.strip()).path)
    except ValueError:
        return None
    return found.group(1) if found else None


def own_space_id(url: str, public_url: str) -> str | None:
    """The Space a link points at when it is a Space link of this instance (whose files
    are read from its own storage, not fetched)."""
    try:
        parts, own = urlsplit(url.strip()), urlsplit(public_url)
    except ValueError:
        return None
    same = (parts.scheme, parts.netloc.lower()) == (own.scheme, own.netloc.lower())
    match = SPACE_PATH.match(parts.path)
    return match.group(1) if same and match else None


def tweet_id_from(url: str) -> str | None:
    """The tweet a link points at, if it is a tweet link."""
    match = TWEET_PATH.match(urlsplit(url).path)
    return match.group(1) if match else None


def space_id_from(url: str) -> str:
    match = SPACE_PATH.match(urlsplit(url).path)
    if match is None:
        raise UnsupportedURL(f"no Space id in {url!r}")
    return match.group(1)


def moment(value: object) -> datetime | None:
    """An ISO 8601 time from an API answer (UTC when it names no zone), else None."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def resolve_airspace(url: str, http: Http, token: str | None, live: bool) -> Source:
    """An Airspace link from any instance, through that instance's public API.

    Reads ``GET /api/v1/spaces/<id>``: ``state`` (live, ended...), ``record``, ``title``,
    ``host``, ``started_at``, ``url`` and ``recording`` with its ``state``,
    ``start_offset_seconds``, ``playlist_url`` (the replay) and ``cover_url``; a live
    Space's program is at ``live_playlist_url``.
    """
    origin = _origin(url)
    space_id = space_id_from(url)
    headers = _authorization(token)
    space = await airspace_space(url, http, token)
    host = space.get("host") or {}
    info = SpaceInfo(
        title=str(space.get("title") or "Space"),
        host=str(host.get("display_name") or host.get("username") or "unknown host"),
        space_id=space_id,
        date=moment(space.get("started_at")) or moment(space.get("created_at")),
        link=str(space.get("url") or f"{origin}/i/spaces/{space_id}"),
    )
    recording = space.get("recording") or {}
    info.cover_url = recording.get("cover_url") or space.get("cover_url")
    info.transcript_url = recording.get("transcript_url")
    state = space.get("state")
    if state == "live":
        live_url = space.get("live_playlist_url") or f"{origin}/i/spaces/{space_id}/live.m3u8"
        if not live:
            raise SpaceIsLive()
        return Source(
            playlist_url=str(live_url),
            info=info,
            is_live=True,
            replay_playlist_url=recording.get("playlist_url"),
            headers=headers,
        )
    if state in ("scheduled", "canceled"):
        raise NotRecorded(f"Space {space_id} has not taken place ({state})")
    if not space.get("record"):
        raise NotRecorded(f"Space {space_id} was not recorded")
    recording_state = recording.get("state")
    if not recording:
        raise RecordingDeleted(f"the recording of Space {space_id} was deleted")
    if recording_state == "expired":
        raise RecordingExpired(f"the recording of Space {space_id} is past its replay window")
    if recording_state in ("deleted", "purged"):
        raise RecordingDeleted(f"the recording of Space {space_id} was deleted")
    playlist_url = recording.get("playlist_url")
    if recording_state != "available" or not playlist_url:
        raise NotRecorded(
            f"the recording of Space {space_id} is not ready yet ({recording_state}); "
            "try again in a few seconds"
        )
    info.chapters = await _chapters(http, f"{origin}/api/v1/spaces/{space_id}/recording", headers)
    return Source(
        playlist_url=str(playlist_url),
        info=info,
        start_offset=float(recording.get("start_offset_seconds") or 0.0),
        headers=headers,
    )


async def _chapters(
    http: Http, recording_api: str, headers: dict[str, str]
) -> tuple[tuple[float, str], ...]:
    """The recording's chapters on the replay's clock (the file's), or none: an instance
    without them, or one that does not answer, costs the file its chapters only."""
    try:
        response = await http.request(
            "GET", f"{recording_api}/chapters", headers=headers, max_bytes=1 << 20, retries=1
        )
        listed = response.json().get("chapters", []) if response.status_code == 200 else []
        return tuple((float(c["start"]), str(c["title"])) for c in listed)
    except (DownloadError, ValueError, TypeError, KeyError, AttributeError):
        return ()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _authorization(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def airspace_space(url: str, http: Http, token: str | None) -> dict[str, Any]:
    """The Space behind an Airspace link, as its instance's API describes it."""
    space_id = space_id_from(url)
    netloc = urlsplit(url).netloc
    response = await http.request(
        "GET",
        f"{_origin(url)}/api/v1/spaces/{space_id}",
        headers=_authorization(token),
        max_bytes=1 << 20,
    )
    if response.status_code == 404:
        raise SpaceNotFound(f"Space {space_id} was not found on {netloc}")
    if response.status_code in (401, 403):
        raise SpacePrivate(
            f"Space {space_id} is private on {netloc}; pass --token with an API token "
            "of an account that may listen"
        )
    _expect_json(response, "the Airspace API")
    space: dict[str, Any] = response.json()
    return space


def _expect_json(response: Fetched, what: str) -> None:
    if response.status_code >= 400:
        raise PlaylistError(f"{what} answered HTTP {response.status_code} for {response.url}")
    if "json" not in response.headers.get("content-type", ""):
        raise UnsupportedURL(f"{response.url} is not an Airspace instance ({what} gave no JSON)")


def hls_source(url: str) -> Source:
    parts = urlsplit(url)
    name = parts.path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".m3u8") or parts.netloc
    return Source(playlist_url=url, info=SpaceInfo(title=name, host=parts.netloc, link=url))
