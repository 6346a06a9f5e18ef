"""A host's podcast feed, read by feedparser and held to the namespace's rules: MP3
enclosures reachable with the length stated, transcripts and chapters fetchable from any
site (CORS), soundbites from clips, the people who spoke, and live items for scheduled
and live Spaces. Only when the host publishes one."""

from __future__ import annotations

import time
from datetime import timedelta
from xml.etree import ElementTree

import feedparser
import httpx
import pytest
from sqlalchemy import select

from airspace.clock import SettableClock
from airspace.recordings.models import Recording, SpeakerTurn
from airspace.sharing.feed import PODCAST
from tests.conftest import LiveServer
from tests.sharing.recorded import recorded_space
from tests.sharing.test_clips import wait_for_clip


def feed_with_items(http: httpx.Client, url: str, count: int) -> bytes:
    """The feed once ``count`` items are listed (their MP3s are made on first read)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body = http.get(url).content
        if len(feedparser.parse(body).entries) >= count:
            return body
        time.sleep(0.3)
    raise AssertionError("the feed never listed its items")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_feed_follows_the_podcast_namespace(
    live_server: LiveServer, clock: SettableClock
) -> None:
    services = live_server.services
    host = live_server.register("ana")
    space_id, _ = recorded_space(live_server.base, services, clock, host, 12)
    with services.sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        session.add(
            SpeakerTurn(
                recording_id=recording.id,
                user_id=None,
                speaker_name="Bob Guest",
                start_seconds=3.0,
                end_seconds=9.0,
            )
        )
        session.commit()
    url = "/@ana/feed.xml"
    with (
        httpx.Client(base_url=live_server.base, headers=host, timeout=20) as http,
        httpx.Client(base_url=live_server.base, follow_redirects=True, timeout=20) as app,
    ):
        assert app.get(url).status_code == 404  # not published yet
        assert http.patch("/api/v1/me", json={"podcast_feed": True}).json()["podcast_feed"]
        clip = http.post(
            f"/api/v1/spaces/{space_id}/clips", json={"start": 1, "end": 7, "title": "High tide"}
        ).json()
        assert wait_for_clip(http, clip["id"])["state"] == "ready"
        start = (clock.now() + timedelta(days=2)).isoformat()
        scheduled = http.post(
            "/api/v1/spaces", json={"title": "Next week", "scheduled_start": start}
        ).json()["id"]

        body = feed_with_items(app, url, 1)
        parsed = feedparser.parse(body)
        assert not parsed.bozo, parsed.bozo_exception
        assert parsed.version == "rss20"
        assert parsed.feed.title == "ana on Airspace"
        assert parsed.feed.author == "ana"
        assert parsed.feed.image.href.endswith("/@ana/cover.png")
        [entry] = parsed.entries
        assert entry.title == "Tide tables"
        assert entry.id == space_id
        assert entry.itunes_duration == "12"
        [enclosure] = entry.enclosures
        assert enclosure.type == "audio/mpeg"
        mp3 = app.get(enclosure.href)
        assert mp3.status_code == 200
        assert mp3.headers["content-type"] == "audio/mpeg"
        assert len(mp3.content) == int(enclosure.length)

        root = ElementTree.fromstring(body)  # noqa: S314 (the server's own feed)
        item = root.find("channel/item")
        assert item is not None
        transcripts = {
            t.get("type"): t.get("url") for t in item.findall(f"{{{PODCAST}}}transcript")
        }
        assert set(transcripts) == {"text/vtt", "application/json"}
        [chapters] = item.findall(f"{{{PODCAST}}}chapters")
        for address in (*transcripts.values(), chapters.get("url")):
            answer = app.get(str(address), headers={"Origin": "https://podcasts.example"})
            assert answer.status_code == 200, address
            assert answer.headers["access-control-allow-origin"] == "*"
        assert app.get(str(chapters.get("url"))).json()["chapters"][0]["startTime"] == 0
        [soundbite] = item.findall(f"{{{PODCAST}}}soundbite")
        assert soundbite.text == "High tide"
        assert float(soundbite.get("startTime", "")) == pytest.approx(1.0)
        assert float(soundbite.get("duration", "")) == pytest.approx(6.0, abs=0.02)
        people = {(p.text, p.get("role")) for p in item.findall(f"{{{PODCAST}}}person")}
        assert people == {("ana", "host"), ("Bob Guest", "guest")}
        live_items = {
            str(live.findtext("guid")): live
            for live in root.findall(f"channel/{{{PODCAST}}}liveItem")
        }
        assert live_items[f"{space_id}-live"].get("status") == "ended"  # ended today
        live = live_items[f"{scheduled}-live"]
        assert live.get("status") == "pending"
        enclosure_element = live.find("enclosure")
        assert enclosure_element is not None
        assert enclosure_element.get("url", "").endswith(f"/i/spaces/{scheduled}/live.m3u8")
        # The Space going live turns its live item live.
        http.post(f"/api/v1/spaces/{scheduled}/start").raise_for_status()
        live_now = ElementTree.fromstring(app.get(url).content)  # noqa: S314
        statuses = {
            str(live.findtext("guid")): live.get("status")
            for live in live_now.findall(f"channel/{{{PODCAST}}}liveItem")
        }
        assert statuses[f"{scheduled}-live"] == "live"
        http.post(f"/api/v1/spaces/{scheduled}/end").raise_for_status()
