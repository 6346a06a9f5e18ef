"""STUN and TURN servers for speakers behind NATs: handed to browsers and used by the
media engine, from ``AIRSPACE_ICE_SERVERS``.

TURN credentials are either fixed (``AIRSPACE_TURN_USERNAME``/``AIRSPACE_TURN_PASSWORD``)
or made per request from a secret shared with the TURN server
(``AIRSPACE_TURN_SECRET``, coturn's ``use-auth-secret``): the user name is the expiry
time and a label, the password its HMAC-SHA1 under the secret, so a leaked one stops
working after ``AIRSPACE_TURN_TTL_SECONDS``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from airspace.errors import ConfigError

SCHEMES = ("stun:", "stuns:", "turn:", "turns:")


@dataclass(frozen=True)
class IceSettings:
    urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_username: str | None = None
    turn_password: str | None = None
    ttl_seconds: int = 3600

    @property
    def stun(self) -> tuple[str, ...]:
        return tuple(url for url in self.urls if url.startswith(("stun:", "stuns:")))

    @property
    def turn(self) -> tuple[str, ...]:
        return tuple(url for url in self.urls if url.startswith(("turn:", "turns:")))


def parse_ice_urls(value: str) -> tuple[str, ...]:
    """``AIRSPACE_ICE_SERVERS``: URLs separated by commas or spaces."""
    urls = tuple(part for part in value.replace(",", " ").split() if part)
    for url in urls:
        if not url.startswith(SCHEMES):
            raise ConfigError(
                f"AIRSPACE_ICE_SERVERS: {url!r} is not a stun:, stuns:, turn: or turns: URL"
            )
    return urls


def check_turn_credentials(settings: IceSettings) -> None:
    if settings.turn and not settings.turn_secret and not settings.turn_username:
        raise ConfigError(
            "AIRSPACE_ICE_SERVERS names a TURN server: set AIRSPACE_TURN_SECRET (its "
            "static-auth-secret) or AIRSPACE_TURN_USERNAME and AIRSPACE_TURN_PASSWORD"
        )


@dataclass(frozen=True)
class TurnCredentials:
    username: str
    password: str
    expires_at: float | None
    """Unix time; None for fixed credentials."""


def turn_credentials(settings: IceSettings, label: str, now: float) -> TurnCredentials:
    if settings.turn_secret:
        expires = int(now) + settings.ttl_seconds
        username = f"{expires}:{label}"
        digest = hmac.new(settings.turn_secret.encode(), username.encode(), hashlib.sha1)
        return TurnCredentials(username, base64.b64encode(digest.digest()).decode(), expires)
    return TurnCredentials(settings.turn_username or "", settings.turn_password or "", None)


def browser_ice_servers(
    settings: IceSettings, label: str, now: float
) -> tuple[list[dict[str, Any]], float | None]:
    """The ``iceServers`` of an ``RTCPeerConnection``, and when its credentials expire."""
    servers: list[dict[str, Any]] = []
    if settings.stun:
        servers.append({"urls": list(settings.stun)})
    if not settings.turn:
        return servers, None
    credentials = turn_credentials(settings, label, now)
    servers.append(
        {
            "urls": list(settings.turn),
            "username": credentials.username,
            "credential": credentials.password,
        }
    )
    return servers, credentials.expires_at
