"""Chapters: made from who spoke when and the silences, or set by the host; shifted by
the start time; served as Podcasting 2.0 JSON to any site."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from airspace.clock import SettableClock
from airspace.recordings.chapters import Chapter, from_turns, on_replay_clock
from airspace.recordings.models import Recording, SpeakerTurn
from airspace.recordings.replay import Turn
from airspace.recordings.services import finalize
from airspace.wiring import Services
from tests.conftest import register


def test_a_new_voice_after_a_while_or_talk_after_a_silence_opens_a_chapter() -> None:
    turns = [
        Turn("Ana", "ana", 2.0, 20.0),
        Turn("Bob", "bob", 20.5, 25.0),  # too soon after Ana's chapter began
        Turn("Ana", "ana", 25.0, 40.0),
        Turn("Bob", "bob", 40.5, 70.0),  # a new voice, 38 s in: a chapter
        Turn("Bob", "bob", 80.0, 90.0),  # after 10 s of silence, but 39.5 s in: a chapter
        Turn("Bob", "bob", 91.0, 130.0),  # the same voice, no silence: no chapter
    ]
    assert from_turns(turns) == [
        Chapter(0.0, "Start"),
        Chapter(2.0, "Ana"),
        Chapter(40.5, "Bob"),
        Chapter(80.0, "Bob"),
    ]
    assert from_turns([]) == [Chapter(0.0, "Start")]


def test_the_start_time_folds_earlier_chapters_into_the_first() -> None:
    chapters = [Chapter(0.0, "Start"), Chapter(10.0, "Ana"), Chapter(50.0, "Bob")]
    assert on_replay_clock(chapters, 20.0, 100.0) == [Chapter(0.0, "Ana"), Chapter(30.0, "Bob")]
    assert on_replay_clock(chapters, 0.0, 40.0) == [Chapter(0.0, "Start"), Chapter(10.0, "Ana")]


def test_the_host_edits_chapters_and_anyone_reads_them(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "ana")
    guest = register(client, "bob")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Tides", "record": True}, headers=host
    ).json()["id"]
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host)
    clock.advance(timedelta(minutes=5))
    client.post(f"/api/v1/spaces/{space_id}/end", headers=host)
    with services.sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        recording_id = recording.id
        for name, start, end in (("Ana", 5.0, 60.0), ("Bob", 61.0, 120.0)):
            session.add(
                SpeakerTurn(
                    recording_id=recording.id,
                    user_id=None,
                    speaker_name=name,
                    start_seconds=start,
                    end_seconds=end,
                )
            )
        session.commit()
    finalize(services, recording_id)
    with services.sessions() as session:
        recording = session.get_one(Recording, recording_id)
        recording.duration_seconds = 300.0
        session.commit()
    url = f"/api/v1/spaces/{space_id}/recording/chapters"
    made = client.get(url).json()
    assert made == {
        "edited": False,
        "chapters": [
            {"start": 0.0, "title": "Start"},
            {"start": 5.0, "title": "Ana"},
            {"start": 61.0, "title": "Bob"},
        ],
    }
    mine = [{"start": 0, "title": "Welcome"}, {"start": 61, "title": "Bob on the tides"}]
    assert client.put(url, json={"chapters": mine}, headers=guest).status_code == 403
    bad = client.put(url, json={"chapters": [{"start": 5, "title": "Late"}]}, headers=host)
    assert bad.status_code == 422
    assert client.put(url, json={"chapters": mine}, headers=host).json()["edited"] is True
    # The start time moves every chapter with it.
    client.patch(
        f"/api/v1/spaces/{space_id}/recording", json={"start_offset_seconds": 30}, headers=host
    )
    served = client.get(f"/i/spaces/{space_id}/chapters.json")
    assert served.headers["access-control-allow-origin"] == "*"
    assert served.headers["content-type"] == "application/json+chapters"
    assert served.json() == {
        "version": "1.2.0",
        "title": "Tides",
        "chapters": [
            {"startTime": 0.0, "title": "Welcome"},
            {"startTime": 31.0, "title": "Bob on the tides"},
        ],
    }
    assert client.put(url, json={"chapters": []}, headers=host).json()["edited"] is False
