"""Clip links of any Airspace instance (``/i/clips/<id>``): the clip's own file, as its
instance made it (cut to the sample, tagged), in MP3 or M4A."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mutagen import File as MutagenFile

from airspace.downloader.errors import (
    NotRecorded,
    RecordingDeleted,
    SpaceNotFound,
    SpacePrivate,
    UnsupportedURL,
)
from airspace.downloader.naming import render
from airspace.downloader.net import Http
from airspace.downloader.pipeline import DownloadOptions, DownloadResult
from airspace.downloader.progress import Progress, ProgressCallback
from airspace.downloader.sources import SpaceInfo, clip_id_from, moment

CLIP_FORMATS = ("mp3", "m4a")
MAX_CLIP_BYTES = 64 << 20
"""A minute of audio is far less; anything larger is not a clip."""


async def _api(http: Http, url: str, headers: dict[str, str], what: str) -> dict[str, Any]:
    answer = await http.request("GET", url, headers=headers, max_bytes=1 << 20)
    if answer.status_code == 404:
        raise SpaceNotFound(f"{what} was not found")
    if answer.status_code in (401, 403):
        raise SpacePrivate(f"{what} is private; pass --token with an API token that may see it")
    if answer.status_code == 410:
        raise RecordingDeleted(f"{what} was deleted with its recording")
    document: dict[str, Any] = answer.json()
    return document


async def download_clip(
    url: str, options: DownloadOptions, report: ProgressCallback | None = None
) -> DownloadResult:
    """Save the clip at ``url`` (an Airspace clip link) as ``options.format``."""
    clip_id = clip_id_from(url)
    if clip_id is None:
        raise UnsupportedURL(f"not a clip link: {url!r}")
    if options.format not in CLIP_FORMATS:
        raise UnsupportedURL("a clip downloads as MP3 or M4A (-f mp3 or -f m4a)")
    state = Progress(stage="resolving")
    say = report or (lambda _: None)
    say(state)
    parts = urlsplit(url.strip())
    origin = f"{parts.scheme}://{parts.netloc}"
    headers = {"Authorization": f"Bearer {options.token}"} if options.token else {}
    async with Http(guard=options.guard) as http:
        clip = await _api(http, f"{origin}/api/v1/clips/{clip_id}", headers, f"clip {clip_id}")
        if clip.get("state") == "failed":
            raise NotRecorded(f"the clip could not be made: {clip.get('error') or 'unknown'}")
        files = clip.get("files")
        if clip.get("state") != "ready" or not files:
            raise NotRecorded("the clip is still being made; try again in a minute")
        space_id = str(clip.get("space_id", ""))
        space = await _api(http, f"{origin}/api/v1/spaces/{space_id}", headers, "its Space")
        host = space.get("host") or {}
        info = SpaceInfo(
            title=str(clip.get("title") or "Clip"),
            host=str(host.get("display_name") or host.get("username") or "unknown host"),
            space_id=clip_id,
            date=moment(space.get("started_at")),
            link=str(clip.get("url") or url),
        )
        output = render(options.output_template, info, options.format)
        state.stage = "downloading"
        say(state)
        answer = await http.request(
            "GET", str(files[options.format]), headers=headers, max_bytes=MAX_CLIP_BYTES
        )
        if answer.status_code != 200:
            raise NotRecorded(f"the clip's file answered HTTP {answer.status_code}")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(f".{output.name}.part")
    partial.write_bytes(answer.content)
    os.replace(partial, output)
    state.bytes_done = len(answer.content)
    state.stage = "done"
    say(state)
    return DownloadResult(
        path=output,
        duration=_duration(output),
        warnings=[],
        title=info.title,
        host=info.host,
        headers=headers,
        info=info,
    )


def _duration(path: Path) -> float:
    audio = MutagenFile(path)
    return float(audio.info.length) if audio is not None else 0.0
