"""Responses for media that changes under the same URL (playlists, captions)."""

from __future__ import annotations

from fastapi import Response

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
VTT_TYPE = "text/vtt; charset=utf-8"


def fresh(body: str, media_type: str = PLAYLIST_TYPE, *, private: bool = False) -> Response:
    """``body`` marked ``no-cache``: clients and CDNs ask again each time, since the
    playlist grows while live and follows the start offset after. ``private`` keeps
    shared caches from storing it at all (ticketed Spaces, held media)."""
    cache = "private, no-store" if private else "no-cache"
    return Response(body, media_type=media_type, headers={"Cache-Control": cache})
