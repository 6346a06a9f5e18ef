"""The search page: Spaces by title, description, topic and host, and the moments in
replays where the words were spoken."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from airspace.captions.models import TranscriptSegment
from airspace.captions.search import replace_segments
from airspace.recordings.models import Recording
from airspace.spaces.search import find_spaces
from airspace.wiring import Services
from tests.conftest import register


def test_spaces_are_found_by_title_description_topic_and_host(
    client: TestClient, services: Services
) -> None:
    host = register(client, "hana")
    client.patch("/api/v1/me", json={"display_name": "Hana Moss"}, headers=host)
    for title, description in (("Tide tables", "Low water"), ("Garden hour", "100% compost")):
        client.post(
            "/api/v1/spaces", json={"title": title, "description": description}, headers=host
        ).raise_for_status()
    with services.sessions() as session:
        titles = lambda q: sorted(s.title for s in find_spaces(session, q, 10))  # noqa: E731
        assert titles("tide") == ["Tide tables"]
        assert titles("WATER low") == ["Tide tables"]  # every word, any order, any case
        assert titles("moss") == ["Garden hour", "Tide tables"]  # the host's name
        assert titles("hana garden") == ["Garden hour"]
        assert titles("100%") == ["Garden hour"]
        assert titles("%") == ["Garden hour"]  # a literal percent, not a wildcard
        assert titles("nothing-like-it") == []
        assert titles("   ") == []


def test_the_page_shows_spaces_and_spoken_moments_that_link_to_their_time(
    client: TestClient, services: Services
) -> None:
    host = register(client, "hana")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Tide tables", "record": True}, headers=host
    ).json()["id"]
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host).raise_for_status()
    client.post(f"/api/v1/spaces/{space_id}/end", headers=host).raise_for_status()
    with services.sessions() as session:
        recording = session.scalars(select(Recording)).one()
        recording.state = recording.state.AVAILABLE
        said = TranscriptSegment(
            recording_id=recording.id,
            speaker_name="Hana",
            start_seconds=83.0,
            end_seconds=86.0,
            body="the spring tides are high",
        )
        replace_segments(session, recording.id, [said])
        session.commit()

    page = client.get("/search", params={"q": "spring tides"})
    assert page.status_code == 200
    assert f'href="/i/spaces/{space_id}?t=83.0"' in page.text
    assert "1:23" in page.text
    assert "<strong>Hana</strong>: the spring tides are high" in page.text
    assert "No Space has" in page.text  # no title says it

    by_title = client.get("/search", params={"q": "tide tables"})
    assert f'href="/i/spaces/{space_id}"' in by_title.text
    assert "Nobody said" in by_title.text

    empty = client.get("/search")
    assert empty.status_code == 200
    assert "Said in replays" not in empty.text
    assert 'role="search"' in client.get("/").text  # the box in the top bar
