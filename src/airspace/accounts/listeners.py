"""Listener sessions: a random cookie that tells listeners apart without an account, for
counting listeners of a live Space and plays of a replay."""

from __future__ import annotations

import secrets

from starlette.requests import HTTPConnection
from starlette.responses import Response

LISTENER_COOKIE = "airspace_listener"
MAX_LENGTH = 64


def listener_of(connection: HTTPConnection) -> tuple[str, bool]:
    """The listener session of a request, and whether it is new (then remember it)."""
    listener = connection.cookies.get(LISTENER_COOKIE)
    if listener and len(listener) <= MAX_LENGTH:
        return listener, False
    return secrets.token_urlsafe(16), True


def remember_listener(response: Response, listener: str) -> None:
    response.set_cookie(LISTENER_COOKIE, listener, httponly=True, samesite="lax", max_age=86_400)
