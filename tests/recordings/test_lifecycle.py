from __future__ import annotations

import math
import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from airspace.accounts.models import Role, User
from airspace.clock import SettableClock
from airspace.errors import Conflict
from airspace.jobs.models import JobRun, JobStatus
from airspace.media.constants import SEGMENT_SECONDS
from airspace.recordings import lifecycle
from airspace.recordings.models import Recording, RecordingState
from airspace.recordings.services import STUCK_AFTER, advance_all, finalize
from airspace.wiring import Services
from tests.conftest import register


def ended_recording(client: TestClient, clock: SettableClock, headers: dict[str, str]) -> str:
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Recorded", "record": True}, headers=headers
    ).json()["id"]
    client.post(f"/api/v1/spaces/{space_id}/start", headers=headers)
    clock.advance(timedelta(minutes=10))
    client.post(f"/api/v1/spaces/{space_id}/end", headers=headers)
    return str(space_id)


def load(services: Services, space_id: str) -> Recording:
    with services.sessions() as session:
        return session.scalars(select(Recording).where(Recording.space_id == space_id)).one()


def test_full_lifecycle_follows_the_clock(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "host")
    space_id = ended_recording(client, clock, host)
    ended_at = clock.now()
    recording = load(services, space_id)
    assert recording.state is RecordingState.PROCESSING
    assert recording.purge_after == ended_at + timedelta(days=120)

    finalize(services, recording.id)
    recording = load(services, space_id)
    assert recording.state is RecordingState.AVAILABLE
    assert recording.available_until == ended_at + timedelta(days=30)
    listed = client.get("/api/v1/spaces?state=recorded").json()["items"]
    assert [s["id"] for s in listed] == [space_id]

    services.storage.put(f"spaces/{space_id}/segment-00000.ts", b"media")
    clock.set(ended_at + timedelta(days=30) - timedelta(seconds=1))
    assert advance_all(services) == {"expired": 0, "purged": 0, "requeued": 0}
    clock.set(ended_at + timedelta(days=30))
    assert advance_all(services) == {"expired": 1, "purged": 0, "requeued": 0}
    assert load(services, space_id).state is RecordingState.EXPIRED
    assert client.get("/api/v1/spaces?state=recorded").json()["items"] == []
    assert services.storage.exists(f"spaces/{space_id}/segment-00000.ts")  # held

    clock.set(ended_at + timedelta(days=120))
    assert advance_all(services) == {"expired": 0, "purged": 1, "requeued": 0}
    purged = load(services, space_id)
    assert purged.state is RecordingState.PURGED
    assert purged.purged_at == clock.now()
    assert services.storage.list(f"spaces/{space_id}/") == []


def test_host_deletes_at_once_and_media_is_held(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "host")
    listener = register(client, "listener")
    space_id = ended_recording(client, clock, host)
    finalize(services, load(services, space_id).id)
    services.storage.put(f"spaces/{space_id}/segment-00000.ts", b"media")
    url = f"/api/v1/spaces/{space_id}/recording"
    assert client.delete(url, headers=listener).status_code == 403
    assert client.delete(url, headers=host).status_code == 204
    assert client.get(url, headers=listener).status_code == 410
    assert client.get(url, headers=host).json()["state"] == "deleted"
    assert client.get(f"/api/v1/spaces/{space_id}").json()["recording"] is None
    assert client.get("/api/v1/spaces?state=recorded").json()["items"] == []
    assert client.delete(url, headers=host).status_code == 409
    assert services.storage.exists(f"spaces/{space_id}/segment-00000.ts")
    clock.advance(timedelta(days=121))
    advance_all(services)
    assert not services.storage.exists(f"spaces/{space_id}/segment-00000.ts")


def test_a_moderator_takes_a_recording_down_and_its_links_die(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "host")
    moderator = register(client, "mod")
    with services.sessions() as session:
        session.query(User).filter_by(username="mod").one().role = Role.MODERATOR
        session.commit()
    space_id = ended_recording(client, clock, host)
    finalize(services, load(services, space_id).id)
    link = client.get(f"/i/spaces/{space_id}/replay.m3u8", follow_redirects=False)
    assert link.status_code == 302
    assert client.get(link.headers["location"]).status_code == 200
    url = f"/api/v1/spaces/{space_id}/recording"
    assert client.delete(url, headers=moderator).status_code == 204
    assert client.get(link.headers["location"]).status_code == 410
    assert client.get(f"/i/spaces/{space_id}/replay.m3u8").status_code == 410
    # Moderators still hear held media, under a grant of the new generation.
    held = client.get(f"/i/spaces/{space_id}/replay.m3u8", headers=moderator)
    assert held.status_code == 200
    assert held.headers["cache-control"] == "private, no-store"
    # Purging revokes once more: a moderator's link dies with the media.
    clock.advance(timedelta(days=121))
    advance_all(services)
    assert client.get(str(held.url)).status_code == 410


def test_the_host_undoes_a_delete_while_the_media_is_held(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "host")
    listener = register(client, "listener")
    space_id = ended_recording(client, clock, host)
    finalize(services, load(services, space_id).id)
    old = client.get(f"/i/spaces/{space_id}/replay.m3u8", follow_redirects=False)
    url = f"/api/v1/spaces/{space_id}/recording"
    assert client.delete(url, headers=host).status_code == 204
    assert client.post(f"{url}/restore", headers=listener).status_code == 403
    restored = client.post(f"{url}/restore", headers=host)
    assert restored.status_code == 200
    assert restored.json()["state"] == "available"
    assert client.get(f"/i/spaces/{space_id}/replay.m3u8").status_code == 200
    # Links handed out before the delete stay dead: the restore gives new ones.
    assert client.get(old.headers["location"]).status_code == 410
    assert client.post(f"{url}/restore", headers=host).status_code == 409


def test_finalize_is_idempotent(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "host")
    recording_id = load(services, ended_recording(client, clock, host)).id
    finalize(services, recording_id)
    finalize(services, recording_id)
    with services.sessions() as session:
        assert session.get(Recording, recording_id).state is RecordingState.AVAILABLE  # type: ignore[union-attr]


def test_illegal_transitions_are_conflicts(clock: SettableClock) -> None:
    recording = lifecycle.begin("AAAAAAAAAAAAA", clock.now())
    with pytest.raises(Conflict):
        lifecycle.publish(recording, timedelta(days=30))
    with pytest.raises(Conflict):
        lifecycle.mark_purged(recording, clock.now())
    lifecycle.stop(recording, clock.now(), timedelta(days=120))
    with pytest.raises(Conflict):
        lifecycle.stop(recording, clock.now(), timedelta(days=120))
    lifecycle.publish(recording, timedelta(days=30))
    lifecycle.delete(recording, clock.now())
    lifecycle.restore(recording, clock.now())
    assert recording.state is RecordingState.AVAILABLE
    clock.advance(timedelta(days=31))
    lifecycle.delete(recording, clock.now())
    lifecycle.restore(recording, clock.now())
    assert recording.state is RecordingState.EXPIRED


def test_recorded_segments_give_the_duration_and_are_purged(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    from airspace.recordings.services import segments_of

    host = register(client, "host")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Recorded", "record": True}, headers=host
    ).json()["id"]
    before_start = time.monotonic()
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host)
    started = time.monotonic()
    recording = load(services, space_id)
    time.sleep(4.5)  # the live room records the program (silence) in real time
    clock.advance(timedelta(minutes=1))  # the wall clock is not what counts
    ending = time.monotonic()
    client.post(f"/api/v1/spaces/{space_id}/end", headers=host)
    ended = time.monotonic()
    finalize(services, recording.id)
    done = load(services, space_id)
    with services.sessions() as session:
        segments = segments_of(session, recording.id)
    keys = [s.key for s in segments]
    assert done.duration_seconds == pytest.approx(sum(s.samples for s in segments) / 48_000)
    # as long as the Space was live, however slow the requests that started and ended it
    assert ending - started - 0.1 <= done.duration_seconds <= ended - before_start + 0.1
    assert len(keys) == math.ceil(done.duration_seconds / SEGMENT_SECONDS)
    assert all(services.storage.exists(k) for k in keys)
    clock.advance(timedelta(days=121))
    advance_all(services)
    assert not any(services.storage.exists(k) for k in keys)


def test_a_recording_whose_jobs_were_lost_is_picked_up_again(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "host")
    space_id = ended_recording(client, clock, host)
    # The queue lost its jobs (the disk was full when they were queued, say).
    with services.sessions() as session:
        for run in session.scalars(select(JobRun).where(JobRun.subject == space_id)):
            run.status = JobStatus.FAILED
        session.commit()
    assert advance_all(services)["requeued"] == 0  # it may still be on its way
    clock.advance(STUCK_AFTER + timedelta(seconds=1))
    assert advance_all(services)["requeued"] == 1
    assert advance_all(services)["requeued"] == 0  # queued now: not twice
    with services.sessions() as session:
        waiting = session.scalars(
            select(JobRun.name).where(JobRun.subject == space_id, JobRun.status == JobStatus.QUEUED)
        ).all()
    assert "recordings.finalize" in waiting
