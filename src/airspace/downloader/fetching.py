"""Reading playlists and segments over HTTP, with the checks that make them usable."""

from __future__ import annotations

import asyncio

from airspace.downloader.errors import (
    FetchError,
    PlaylistError,
    PlaylistMissing,
    UnsupportedURL,
)
from airspace.downloader.hls import MediaPlaylist, Segment, is_master, parse_master, parse_media
from airspace.downloader.net import Http
from airspace.downloader.segments import DamagedSegment, SegmentAudio, read_segment
from airspace.downloader.sources import PLAYLIST_MAX_BYTES

SEGMENT_MAX_BYTES = 16 * 1024 * 1024


async def load_media_playlist(
    http: Http, url: str, headers: dict[str, str] | None = None
) -> MediaPlaylist:
    """The media playlist at ``url``; a master playlist is followed to its best audio."""
    for _ in range(3):
        response = await http.request("GET", url, headers=headers, max_bytes=PLAYLIST_MAX_BYTES)
        if response.status_code in (404, 410):
            raise PlaylistMissing(f"the playlist {url} answered HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PlaylistError(f"the playlist {url} answered HTTP {response.status_code}")
        text = response.text
        if not text.lstrip("\ufeff").startswith("#EXTM3U"):
            raise UnsupportedURL(f"{url} is neither a Space link nor an HLS playlist")
        if is_master(text):
            url = parse_master(text, response.url).best_audio_url()
            continue
        playlist = parse_media(text, response.url)
        if playlist.encrypted:
            raise PlaylistError("the playlist is encrypted (EXT-X-KEY); it cannot be downloaded")
        if playlist.has_init_section:
            raise PlaylistError("fragmented-MP4 playlists (EXT-X-MAP) are not supported")
        return playlist
    raise PlaylistError("master playlists nest too deeply")


async def fetch_segment(
    http: Http, segment: Segment, headers: dict[str, str], retries: int
) -> tuple[SegmentAudio, int]:
    """One segment's audio and its size in bytes.

    Timeouts, dropped connections, truncated or damaged bodies and error statuses are
    tried again with exponential backoff; raises FetchError when every attempt failed.
    """
    range_header = {}
    if segment.byte_range is not None:
        offset, length = segment.byte_range
        range_header = {"Range": f"bytes={offset}-{offset + length - 1}"}
    last = ""
    for attempt in range(retries + 1):
        try:
            response = await http.request(
                "GET",
                segment.url,
                headers={**headers, **range_header},
                max_bytes=SEGMENT_MAX_BYTES,
                retries=0,
            )
        except FetchError as exc:
            last = exc.message
        else:
            if response.status_code >= 400:
                last = f"HTTP {response.status_code}"
            else:
                try:
                    return read_segment(response.content, segment.duration), len(response.content)
                except DamagedSegment as exc:
                    last = str(exc)
        if attempt < retries:
            delay = min(http.options.max_backoff_seconds, http.options.backoff_seconds * 2**attempt)
            await asyncio.sleep(delay)
    raise FetchError(f"{last} (after {retries + 1} attempts)")
