"""X (Twitter) Spaces, resolved the way the public web client does.

guest token (or a logged-in cookies file) → GraphQL ``AudioSpaceById`` → ``media_key``
→ ``live_video_stream/status`` → master playlist → audio variant. Every endpoint is
reached under one base URL, ``AIRSPACE_X_API_URL``, so a stand-in can take its place.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from airspace.downloader.errors import (
    FetchError,
    NoSpaceInTweet,
    NotRecorded,
    SpaceIsLive,
    SpaceNotFound,
    SpacePrivate,
)
from airspace.downloader.net import Fetched, Http
from airspace.downloader.sources import (
    SPACE_PATH,
    Source,
    SpaceInfo,
    space_id_from,
    tweet_id_from,
)

# The public web client's bearer token and query id, as open-source clients use them.
DEFAULT_BEARER = (
    "AAAAAAAAAAAAAAAAAAAAANRILgAAAAAAnNwIzUejRCOuH5E6I8xnZz4puTs%3D"
    "1Zv7ttfk8LF81IUq16cHjhLTvJu4FA33AGWWjCpTnA"
)
DEFAULT_QUERY_ID = "HPEisOmj1epUNLCWTYhUWw"
DEFAULT_TWEET_QUERY_ID = "2ICDjqPd81tulZcYrtpTuQ"
"""``TweetResultByRestId``'s query id (X changes these now and then: a setting)."""
DEFAULT_USER_QUERY_ID = "xmU6X_CKVnQ5lSrCbAmJsg"
"""``UserByScreenName``'s query id (an account's id from its handle, for ``watch``)."""
DEFAULT_API_URL = "https://api.x.com"
FEATURES = {
    "spaces_2022_h2_clipping": True,
    "spaces_2022_h2_spaces_communities": True,
    "responsive_web_graphql_exclude_directive_enabled": True,
    "verified_phone_label_enabled": False,
    "creator_subscriptions_tweet_preview_api_enabled": True,
    "responsive_web_graphql_skip_user_profile_image_extensions_enabled": False,
    "responsive_web_graphql_timeline_navigation_enabled": True,
    "responsive_web_edit_tweet_api_enabled": True,
    "responsive_web_enhance_cards_enabled": False,
    "standardized_nudges_misinfo": True,
}
_PLAYLIST_NAME = re.compile(r"/(dynamic_playlist|playlist_\d+)\.m3u8(\?.*)?$")


@dataclass(frozen=True)
class XConfig:
    api_url: str = DEFAULT_API_URL
    bearer_token: str = DEFAULT_BEARER
    query_id: str = DEFAULT_QUERY_ID
    tweet_query_id: str = DEFAULT_TWEET_QUERY_ID
    user_query_id: str = DEFAULT_USER_QUERY_ID

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> XConfig:
        env = os.environ if env is None else env
        return cls(
            api_url=env.get("AIRSPACE_X_API_URL", DEFAULT_API_URL).rstrip("/"),
            bearer_token=env.get("AIRSPACE_X_BEARER_TOKEN", DEFAULT_BEARER),
            query_id=env.get("AIRSPACE_X_QUERY_ID", DEFAULT_QUERY_ID),
            tweet_query_id=env.get("AIRSPACE_X_TWEET_QUERY_ID", DEFAULT_TWEET_QUERY_ID),
            user_query_id=env.get("AIRSPACE_X_USER_QUERY_ID", DEFAULT_USER_QUERY_ID),
        )


def master_playlist_url(location: str) -> str:
    """The master playlist next to the playlist the status call names."""
    return _PLAYLIST_NAME.sub("/master_playlist.m3u8", location)


async def _auth_headers(http: Http, config: XConfig, cookies: Mapping[str, str]) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {config.bearer_token}"}
    if cookies:
        # The log-in cookies go to X's API only, never to the media hosts.
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    if "ct0" in cookies:
        headers["x-csrf-token"] = cookies["ct0"]
    if "auth_token" in cookies:
        headers["x-twitter-auth-type"] = "OAuth2Session"
        headers["x-twitter-active-user"] = "yes"
        return headers
    response = await http.request(
        "POST", f"{config.api_url}/1.1/guest/activate.json", headers=headers, content=b""
    )
    token = _json(response, "guest token").get("guest_token")
    if not token:
        raise FetchError("X gave no guest token; try again, or pass --cookies")
    headers["x-guest-token"] = str(token)
    return headers


def _json(response: Fetched, what: str) -> dict[str, Any]:
    if response.status_code in (401, 403):
        raise SpacePrivate(f"X refused the {what} request; pass --cookies from a logged-in browser")
    if response.status_code >= 400:
        raise FetchError(f"X answered HTTP {response.status_code} to the {what} request")
    try:
        value = response.json()
    except ValueError:
        raise FetchError(f"X sent something other than JSON for the {what} request") from None
    if not isinstance(value, dict):
        raise FetchError(f"unexpected {what} response from X")
    return value


def _millis(value: object) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(str(value)) / 1000, UTC)
    except (TypeError, ValueError, OverflowError):
        return None


async def resolve_x(
    url: str, http: Http, config: XConfig, cookies: Mapping[str, str], live: bool
) -> Source:
    headers = await _auth_headers(http, config, cookies)
    tweet_id = tweet_id_from(url)
    if tweet_id is not None:
        space_id = await _space_of_tweet(http, config, headers, tweet_id)
    else:
        space_id = space_id_from(url)
    variables = {
        "id": space_id,
        "isMetatagsQuery": True,
        "withReplays": True,
        "withListeners": True,
    }
    query = {
        "variables": json.dumps(variables, separators=(",", ":")),
        "features": json.dumps(FEATURES, separators=(",", ":")),
    }
    graphql = f"{config.api_url}/graphql/{config.query_id}/AudioSpaceById?{urlencode(query)}"
    body = _json(await http.request("GET", graphql, headers=headers), "AudioSpaceById")
    for error in body.get("errors") or []:
        if "not authorized" in str(error.get("message", "")).lower():
            raise SpacePrivate("X says this Space needs a log-in; pass --cookies")
    space = (body.get("data") or {}).get("audioSpace") or {}
    metadata = space.get("metadata") or {}
    if not metadata.get("media_key"):
        raise SpaceNotFound(f"X Space {space_id} was not found")
    creator = ((metadata.get("creator_results") or {}).get("result") or {}).get("legacy") or {}
    screen_name = creator.get("screen_name")
    image = creator.get("profile_image_url_https")
    info = SpaceInfo(
        title=str(metadata.get("title") or f"Space {space_id}"),
        host=str(creator.get("name") or screen_name or "unknown host"),
        space_id=space_id,
        date=_millis(metadata.get("started_at")) or _millis(metadata.get("created_at")),
        link=f"https://x.com/i/spaces/{space_id}",
        cover_url=str(image).replace("_normal.", "_400x400.") if image else None,
        participants=_participants(space.get("participants") or {}),
    )
    state = str(metadata.get("state", "")).lower()
    if state in ("notstarted", "prepublished"):
        raise NotRecorded(f"X Space {space_id} has not started yet")
    if state == "canceled":
        raise SpaceNotFound(f"X Space {space_id} was canceled")
    is_live = state == "running"
    if is_live and not live:
        raise SpaceIsLive()
    if not is_live and not metadata.get("is_space_available_for_replay"):
        raise NotRecorded(f"the host of X Space {space_id} did not keep a recording")
    status_url = f"{config.api_url}/1.1/live_video_stream/status/{metadata['media_key']}"
    status = _json(await http.request("GET", status_url, headers=headers), "stream status")
    stream = status.get("source") or {}
    location = stream.get("noRedirectPlaybackUrl") or stream.get("location")
    if not location:
        raise NotRecorded(f"X has no stream for Space {space_id} (yet)")
    playlist = master_playlist_url(str(location))
    return Source(
        playlist_url=str(location) if is_live else playlist,
        info=info,
        is_live=is_live,
        replay_playlist_url=playlist if is_live else None,
    )


async def x_account_id(http: Http, config: XConfig, cookies: Mapping[str, str], handle: str) -> str:
    """The id of the X account ``handle``; SpaceNotFound when there is none."""
    headers = await _auth_headers(http, config, cookies)
    variables = {"screen_name": handle, "withSafetyModeUserFields": True}
    query = {
        "variables": json.dumps(variables, separators=(",", ":")),
        "features": json.dumps(FEATURES, separators=(",", ":")),
    }
    url = f"{config.api_url}/graphql/{config.user_query_id}/UserByScreenName?{urlencode(query)}"
    body = _json(await http.request("GET", url, headers=headers), "UserByScreenName")
    user = ((body.get("data") or {}).get("user") or {}).get("result") or {}
    if not user.get("rest_id"):
        raise SpaceNotFound(f"X has no account @{handle}")
    return str(user["rest_id"])


async def live_space_of(
    http: Http, config: XConfig, cookies: Mapping[str, str], account_id: str
) -> str | None:
    """The id of the Space the X account ``account_id`` is live in, if any (X tells
    logged-in accounts only: ``cookies`` must hold a log-in)."""
    headers = await _auth_headers(http, config, cookies)
    query = urlencode({"user_ids": account_id, "only_spaces": "true"})
    url = f"{config.api_url}/fleets/v1/avatar_content?{query}"
    body = _json(await http.request("GET", url, headers=headers), "avatar content")
    user = (body.get("users") or {}).get(account_id) or {}
    space = ((user.get("spaces") or {}).get("live_content") or {}).get("audiospace") or {}
    broadcast = space.get("broadcast_id")
    return str(broadcast) if broadcast else None


async def _space_of_tweet(
    http: Http, config: XConfig, headers: dict[str, str], tweet_id: str
) -> str:
    """The Space a tweet carries: its card's Space id, or a Space link in its text."""
    variables = {"tweetId": tweet_id, "withCommunity": False, "includePromotedContent": False}
    query = {
        "variables": json.dumps(variables, separators=(",", ":")),
        "features": json.dumps(FEATURES, separators=(",", ":")),
    }
    url = f"{config.api_url}/graphql/{config.tweet_query_id}/TweetResultByRestId?{urlencode(query)}"
    body = _json(await http.request("GET", url, headers=headers), "TweetResultByRestId")
    tweet = ((body.get("data") or {}).get("tweetResult") or {}).get("result") or {}
    tweet = tweet.get("tweet") or tweet  # a tweet with visibility results wraps the tweet
    if tweet.get("__typename") == "TweetUnavailable" or not tweet.get("legacy"):
        raise SpaceNotFound(f"tweet {tweet_id} was not found (deleted, or protected: --cookies)")
    card = (tweet.get("card") or {}).get("legacy") or {}
    if str(card.get("name", "")).endswith(":audiospace"):
        for binding in card.get("binding_values") or []:
            value = (binding.get("value") or {}).get("string_value")
            if binding.get("key") == "id" and value:
                return str(value)
    for link in (tweet["legacy"].get("entities") or {}).get("urls") or []:
        match = SPACE_PATH.match(urlsplit(str(link.get("expanded_url", ""))).path)
        if match:
            return match.group(1)
    raise NoSpaceInTweet(f"tweet {tweet_id} has no Space in it")


def _participants(listed: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """Hosts (X's "admins") and speakers, as ("host" | "speaker", "Name (@handle)")."""
    people: list[tuple[str, str]] = []
    for group, role in (("admins", "host"), ("speakers", "speaker")):
        for person in listed.get(group) or []:
            if not isinstance(person, dict):
                continue
            name = str(person.get("display_name") or "").strip()
            handle = str(person.get("twitter_screen_name") or "").strip()
            label = (
                f"{name} (@{handle})"
                if name and handle
                else name or (f"@{handle}" if handle else "")
            )
            if label and (role, label) not in people:
                people.append((role, label))
    return tuple(people)
