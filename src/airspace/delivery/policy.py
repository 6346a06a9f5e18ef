"""How long grants live and what caches may do with what they open."""

from __future__ import annotations

from airspace.delivery.grants import Audience, Grant

GRANT_SECONDS = 3600
"""A grant's life. Live grants are renewed while the Space is live; a replay player asks
its page's link again when one runs out."""
SHARED_CACHE_SECONDS = 300
"""The longest a shared cache (a CDN) may keep public bytes: all a revocation cannot reach."""


def cache_control(grant: Grant, now: float) -> str:
    """Immutable bytes (segments, renditions) under ``grant``: public ones for at most
    the grant's life (shared caches for at most five minutes), ticketed and held ones
    for the listener's browser only."""
    seconds = grant.seconds_left(now)
    if grant.audience is Audience.PUBLIC:
        shared = min(seconds, SHARED_CACHE_SECONDS)
        return f"public, max-age={seconds}, s-maxage={shared}, immutable"
    return f"private, max-age={seconds}, immutable"
