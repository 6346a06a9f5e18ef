"""Live Spaces on several nodes sharing one database: a node's start leaves the others'
Spaces alone, a node that stops renewing its leases has its Spaces ended where their
audio ends, and a room ended elsewhere stops recording."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest
from fastapi.testclient import TestClient

from airspace.accounts import services as accounts
from airspace.app import create_app
from airspace.clock import SettableClock
from airspace.live import leases
from airspace.live.recorder import live_prefix
from airspace.live.recovery import recover_interrupted
from airspace.media.live_segmenter import LiveSegmenter
from airspace.recordings.services import add_segment, recording_for_space, segments_of
from airspace.spaces import services as spaces
from airspace.spaces.models import Space, SpaceState
from airspace.wiring import Services, build_services
from tests.conftest import register


def live_space_of(services: Services, node: str, clock: SettableClock) -> tuple[str, int]:
    """A recorded Space gone live on ``node``; returns its id and its recording's."""
    with services.sessions() as session:
        host = accounts.register(session, "host", "pw-12345678", clock.now())
        space = spaces.create(
            session, host, spaces.SpaceFields(title="Live", record=True), (), clock.now()
        )
        recording = spaces.start(session, space, host, clock.now())
        leases.take(space, node, clock.now())
        session.commit()
        assert recording is not None
        return space.id, recording.id


def state_of(services: Services, space_id: str) -> SpaceState:
    with services.sessions() as session:
        return session.get_one(Space, space_id).state


def test_a_starting_node_leaves_the_spaces_of_healthy_nodes_alone(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "host")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Here", "record": True}, headers=host
    ).json()["id"]
    assert client.post(f"/api/v1/spaces/{space_id}/start", headers=host).status_code == 200
    other = build_services(replace(services.settings, node_id="node-b"), clock=clock)
    try:
        with TestClient(create_app(other)) as second:  # its start-up runs recovery
            assert second.get(f"/api/v1/spaces/{space_id}").json()["state"] == "live"
            # Ending it there would leave the room recording here: refused, with the reason.
            refused = second.post(f"/api/v1/spaces/{space_id}/end", headers=host)
            assert refused.status_code == 409
            assert "another server" in refused.json()["detail"]
    finally:
        other.close()
    assert state_of(services, space_id) is SpaceState.LIVE
    assert client.post(f"/api/v1/spaces/{space_id}/end", headers=host).status_code == 200


def test_a_node_that_stops_renewing_has_its_spaces_ended_where_their_audio_ends(
    services: Services, clock: SettableClock
) -> None:
    started = clock.now()
    space_id, recording_id = live_space_of(services, "node-dead", clock)
    segmenter = LiveSegmenter(
        services.storage,
        live_prefix(space_id),
        started,
        on_segment=lambda segment, _: add_segment(services, recording_id, segment),
    )
    segmenter.push(np.zeros(48_000 * 5, dtype=np.float32))  # two whole segments stored
    clock.advance(leases.LEASE - timedelta(seconds=1))
    assert recover_interrupted(services, set(), starting=False) == []  # the lease holds
    assert state_of(services, space_id) is SpaceState.LIVE

    clock.advance(leases.LEASE)  # no renewal: the lease has expired
    assert recover_interrupted(services, set(), starting=False) == [space_id]
    with services.sessions() as session:
        space = session.get_one(Space, space_id)
        recording = recording_for_space(session, space_id)
        assert recording is not None
        stored = sum(s.samples for s in segments_of(session, recording_id)) / 48_000
        assert space.state is SpaceState.ENDED
        # It ended where its audio does, not when somebody noticed.
        assert space.ended_at == started + timedelta(seconds=stored)
        assert recording.ended_at == space.ended_at
        assert recording.duration_seconds == pytest.approx(stored)


def test_a_room_ended_elsewhere_stops_recording(
    client: TestClient, services: Services, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leases, "RENEW_SECONDS", 0.2)
    host = register(client, "host")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Here", "record": True}, headers=host
    ).json()["id"]
    assert client.post(f"/api/v1/spaces/{space_id}/start", headers=host).status_code == 200
    rooms = client.app.state.rooms  # type: ignore[attr-defined]
    # Another node ended it (this one had stopped renewing for a while).
    with services.sessions() as session:
        space = session.get_one(Space, space_id)
        spaces.finish(session, space, clock.now(), timedelta(days=120))
        session.commit()
    deadline = time.monotonic() + 10
    while space_id in rooms.rooms and time.monotonic() < deadline:
        time.sleep(0.05)
    assert space_id not in rooms.rooms
    with services.sessions() as session:
        recording = recording_for_space(session, space_id)
        assert recording is not None
        listed = len(segments_of(session, recording.id))
    time.sleep(2.5)  # a room still running would have stored another segment by now
    with services.sessions() as session:
        assert len(segments_of(session, recording.id)) == listed
