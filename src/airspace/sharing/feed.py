"""A host's podcast feed: RSS 2.0 with the iTunes tags and the Podcasting 2.0 namespace.

Each public recording still in its window is an item with its MP3 (made the first time
the feed is read, then listed), transcripts, chapters, soundbites from its clips and
the people who spoke; scheduled and live Spaces are ``podcast:liveItem`` entries
(pending → live → ended) pointing at the live HLS. Ticketed Spaces are left out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime
from typing import TYPE_CHECKING
from xml.etree import ElementTree

from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.jobs.models import JobStatus
from airspace.jobs.status import latest_run
from airspace.recordings import services as recordings
from airspace.recordings.models import Recording, RecordingState
from airspace.recordings.renditions import rendition_key
from airspace.sharing.models import Clip, ClipState
from airspace.spaces.models import Space, SpaceState

if TYPE_CHECKING:
    from airspace.wiring import Services

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
FEED_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
"""Podcasting 2.0's namespace for ``podcast:guid`` (a UUIDv5 of the feed's address)."""
MOST_ITEMS = 100
ENDED_LIVE_ITEM = timedelta(hours=24)
"""How long an ended Space stays a live item (``status="ended"``) in the feed."""

for _prefix, _uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
    ElementTree.register_namespace(_prefix, _uri)


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def _add(
    parent: ElementTree.Element, tag: str, text: str | None = None, **attributes: str
) -> ElementTree.Element:
    element = ElementTree.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def feed_guid(feed_url: str) -> str:
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(FEED_NAMESPACE, bare))


@dataclass(frozen=True)
class Episode:
    space: Space
    recording: Recording
    mp3_bytes: int


def episodes(services: Services, session: Session, host: User) -> list[Episode]:
    """The host's public recordings in their window whose MP3 is made; the MP3 of any
    other is queued, so it is listed once made."""
    rows = session.execute(
        select(Space, Recording)
        .join(Recording, Recording.space_id == Space.id)
        .where(
            Space.host_id == host.id,
            Space.ticket_capacity.is_(None),
            Recording.state == RecordingState.AVAILABLE,
        )
        .order_by(Space.ended_at.desc())
        .limit(MOST_ITEMS)
    ).all()
    found = []
    for space, recording in rows:
        key = rendition_key(recording, "mp3")
        if services.storage.exists(key):
            found.append(Episode(space, recording, services.storage.size(key)))
            continue
        offset = recording.start_offset_seconds
        run = latest_run(
            session, "recordings.render", space.id, {"format": "mp3", "offset": offset}
        )
        if run is None or run.status in (JobStatus.DONE, JobStatus.FAILED):
            recordings.enqueue_rendition(services, space.id, recording.id, "mp3", offset)
    return found


def _live_items(session: Session, host: User, now: datetime) -> list[tuple[Space, str]]:
    spaces = session.scalars(
        select(Space)
        .where(
            Space.host_id == host.id,
            Space.ticket_capacity.is_(None),
            Space.state.in_([SpaceState.SCHEDULED, SpaceState.LIVE, SpaceState.ENDED]),
        )
        .order_by(Space.created_at.desc())
        .limit(MOST_ITEMS)
    )
    items = []
    for space in spaces:
        if space.state is SpaceState.SCHEDULED and space.scheduled_start is not None:
            items.append((space, "pending"))
        elif space.state is SpaceState.LIVE:
            items.append((space, "live"))
        elif space.ended_at is not None and now - space.ended_at < ENDED_LIVE_ITEM:
            items.append((space, "ended"))
    return items


def render(services: Services, session: Session, host: User) -> bytes:
    """The feed's XML."""
    public = services.settings.public_url
    profile = f"{public}/@{host.username}"
    feed_url = f"{profile}/feed.xml"
    rss = ElementTree.Element("rss", {"version": "2.0"})
    channel = _add(rss, "channel")
    _add(channel, "title", f"{host.display_name} on Airspace")
    _add(channel, "link", profile)
    _add(channel, "description", f"Recorded Spaces hosted by {host.display_name}.")
    _add(channel, "language", "en")
    _add(channel, "generator", "Airspace")
    _add(channel, _tag(ATOM, "link"), href=feed_url, rel="self", type="application/rss+xml")
    _add(channel, _tag(ITUNES, "author"), host.display_name)
    _add(channel, _tag(ITUNES, "image"), href=f"{profile}/cover.png")
    _add(channel, _tag(ITUNES, "category"), text="Society & Culture")
    _add(channel, _tag(ITUNES, "explicit"), "false")
    _add(channel, _tag(PODCAST, "guid"), feed_guid(feed_url))
    _add(channel, _tag(PODCAST, "locked"), "no")
    _add(channel, _tag(PODCAST, "person"), host.display_name, role="host", href=profile)

    now = services.clock.now()
    for space, status in _live_items(session, host, now):
        start = space.started_at or space.scheduled_start or now
        attributes = {"status": status, "start": start.isoformat()}
        if space.ended_at is not None:
            attributes["end"] = space.ended_at.isoformat()
        live = _add(channel, _tag(PODCAST, "liveItem"), **attributes)
        page = f"{public}/i/spaces/{space.id}"
        _add(live, "title", space.title)
        _add(live, "guid", f"{space.id}-live", isPermaLink="false")
        _add(live, "link", page)
        _add(live, "description", space.description or f"A Space hosted by {host.display_name}.")
        _add(live, "enclosure", url=f"{page}/live.m3u8", type="application/x-mpegURL", length="0")
        _add(live, _tag(PODCAST, "contentLink"), "Listen on Airspace", href=page)

    for episode in episodes(services, session, host):
        _item(channel, session, public, host, episode)
    ElementTree.indent(rss)
    body: bytes = ElementTree.tostring(rss, encoding="utf-8", xml_declaration=True)
    return body


def _item(
    channel: ElementTree.Element, session: Session, public: str, host: User, episode: Episode
) -> None:
    space, recording = episode.space, episode.recording
    page = f"{public}/i/spaces/{space.id}"
    offset = recording.start_offset_seconds
    playable = (recording.duration_seconds or 0.0) - offset
    item = _add(channel, "item")
    _add(item, "title", space.title)
    _add(item, "guid", space.id, isPermaLink="false")
    _add(item, "link", page)
    _add(item, "pubDate", format_datetime(space.ended_at or recording.started_at))
    _add(item, "description", space.description or f"A Space hosted by {host.display_name}.")
    _add(
        item,
        "enclosure",
        url=f"{page}/recording.mp3",
        length=str(episode.mp3_bytes),
        type="audio/mpeg",
    )
    _add(item, _tag(ITUNES, "duration"), str(round(playable)))
    _add(item, _tag(ITUNES, "episodeType"), "full")
    _add(
        item,
        _tag(PODCAST, "transcript"),
        url=f"{page}/transcript.vtt",
        type="text/vtt",
        rel="captions",
    )
    _add(item, _tag(PODCAST, "transcript"), url=f"{page}/transcript.json", type="application/json")
    _add(
        item,
        _tag(PODCAST, "chapters"),
        url=f"{page}/chapters.json",
        type="application/json+chapters",
    )
    clips = session.scalars(
        select(Clip)
        .where(Clip.recording_id == recording.id, Clip.state == ClipState.READY)
        .order_by(Clip.start_seconds)
    )
    for clip in clips:
        start = max(0.0, clip.start_seconds - offset)
        _add(
            item,
            _tag(PODCAST, "soundbite"),
            clip.title,
            startTime=f"{start:.3f}",
            duration=f"{clip.duration_seconds:.3f}",
        )
    _add(
        item,
        _tag(PODCAST, "person"),
        host.display_name,
        role="host",
        href=f"{public}/@{host.username}",
    )
    guests = sorted(
        {t.speaker for t in recordings.speaker_turns(session, recording.id)}
        - {host.display_name, ""}
    )
    for guest in guests:
        _add(item, _tag(PODCAST, "person"), guest, role="guest")
