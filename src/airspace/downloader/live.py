"""``--live``: record a live Space from its live edge to its end, then join the earlier
part from the replay, by media sequence number: no gap, no segment twice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from airspace.downloader.errors import DownloadError, FetchError
from airspace.downloader.fetching import fetch_segment, load_media_playlist
from airspace.downloader.hls import MediaPlaylist, Segment
from airspace.downloader.net import Http
from airspace.downloader.parts import PartsCache
from airspace.downloader.progress import Progress

ReplayLookup = Callable[[], Awaitable[str | None]]
POLL_FLOOR_SECONDS = 0.5


async def record(
    http: Http,
    live_url: str,
    headers: dict[str, str],
    cache: PartsCache,
    retries: int,
    replay_lookup: ReplayLookup,
    state: Progress,
    report: Callable[[], None],
    first_view: MediaPlaylist | None = None,
) -> tuple[list[Segment], list[str]]:
    """Follow the live playlist until ``EXT-X-ENDLIST``; returns every segment of the
    Space in order (earlier part from the replay first) and warnings."""
    seen: dict[int, Segment] = {}
    pending: set[asyncio.Task[None]] = set()
    warnings: list[str] = []

    async def keep(segment: Segment) -> None:
        try:
            audio, size = await fetch_segment(http, segment, headers, retries)
        except FetchError:
            return  # tried again when the file is assembled
        cache.write(segment.sequence, audio.to_bytes())
        state.bytes_done += size
        state.segments_done += 1
        state.seconds_done += segment.duration
        report()

    while True:
        playlist = first_view or await load_media_playlist(http, live_url, headers)
        first_view = None
        for segment in playlist.segments:
            if segment.sequence not in seen:
                seen[segment.sequence] = segment
                state.segments_total += 1
                state.seconds_total += segment.duration
                if not cache.has(segment.sequence):
                    task = asyncio.create_task(keep(segment))
                    pending.add(task)
                    task.add_done_callback(pending.discard)
        report()
        if playlist.ended:
            break
        await asyncio.sleep(max(POLL_FLOOR_SECONDS, (playlist.target_duration or 2.0) / 2))
    if pending:
        await asyncio.gather(*pending)
    live_segments = [seen[sequence] for sequence in sorted(seen)]
    first_live = live_segments[0].sequence if live_segments else 0
    earlier: list[Segment] = []
    if first_live > 0:
        replay_url = await replay_lookup()
        if replay_url is None:
            warnings.append(
                f"the Space's first {first_live} segment(s) were before the live edge and no "
                "replay holds them: the file starts where recording began"
            )
        else:
            try:
                replay = await load_media_playlist(http, replay_url, headers)
            except DownloadError as exc:
                warnings.append(f"the earlier part could not be read from the replay: {exc}")
            else:
                earlier = [s for s in replay.segments if s.sequence < first_live]
                state.segments_total += len(earlier)
                state.seconds_total += sum(s.duration for s in earlier)
    return earlier + live_segments, warnings
