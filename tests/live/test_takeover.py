"""A live room outlives its node: two nodes share a database, Redis and storage; when the
owner stops renewing its lease the other takes the room over (roster, recording and
all), and a node that shuts down hands its rooms over instead of ending them."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from airspace.app import create_app
from airspace.clock import SettableClock
from airspace.config import Settings
from airspace.live import leases
from airspace.live.rooms import LiveRooms
from airspace.recordings.services import recording_for_space, segments_of
from airspace.spaces.models import Space
from airspace.wiring import Services, build_services
from tests.conftest import REDIS_URL, register

pytestmark = pytest.mark.parametrize("settings", ["local"], indirect=True)


def room(space_id: str, path: str = "") -> str:
    return f"/api/v1/spaces/{space_id}/room{path}"


def rooms_of(client: TestClient) -> LiveRooms:
    rooms: LiveRooms = client.app.state.rooms  # type: ignore[attr-defined]
    return rooms


def wait_until(check: Callable[[], bool], seconds: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting: {what}"
        time.sleep(0.1)


@contextmanager
def two_nodes(settings: Settings, clock: SettableClock) -> Iterator[tuple[Services, Services]]:
    shared = replace(settings, events_url=REDIS_URL, media_workers=0)
    first = build_services(replace(shared, node_id="node-a"), clock=clock)
    second = build_services(replace(shared, node_id="node-b"), clock=clock)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def listed(services: Services, space_id: str) -> list[tuple[int, str, int, int, bool]]:
    with services.sessions() as session:
        recording = recording_for_space(session, space_id)
        assert recording is not None
        return [
            (s.sequence, s.key, s.first_sample, s.samples, s.discontinuity)
            for s in segments_of(session, recording.id)
        ]


def owner_of(services: Services, space_id: str) -> str | None:
    with services.sessions() as session:
        return session.get_one(Space, space_id).owner_node


@pytest.mark.slow
def test_a_room_whose_owner_stops_renewing_is_taken_over_and_carries_on(
    settings: Settings, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leases, "RENEW_SECONDS", 0.3)
    with (
        two_nodes(settings, clock) as (first, second),
        TestClient(create_app(first)) as node_a,
        TestClient(create_app(second)) as node_b,
    ):
        host = register(node_a, "host")
        guest = register(node_b, "guest")
        space_id = node_a.post(
            "/api/v1/spaces", json={"title": "Outlives", "record": True}, headers=host
        ).json()["id"]
        assert node_a.post(f"/api/v1/spaces/{space_id}/start", headers=host).is_success
        assert node_a.post(room(space_id, "/join"), headers=host).is_success
        assert node_b.post(room(space_id, "/join"), headers=guest).is_success
        assert node_b.post(room(space_id, "/requests"), headers=guest).is_success
        approved = node_b.post(
            room(space_id, "/speakers"), json={"username": "guest"}, headers=host
        )
        assert approved.status_code == 200, approved.text
        wait_until(lambda: len(listed(first, space_id)) >= 2, what="segments on node-a")
        wait_until(lambda: '"speaker"' in (_roster(first, space_id) or ""), what="the roster saved")

        # node-a loses the database for its leases (it keeps running, unaware).
        def unreachable() -> set[str]:
            raise ConnectionError("database unreachable from node-a")

        monkeypatch.setattr(rooms_of(node_a), "_renew_leases", unreachable)
        with node_b.websocket_connect(room(space_id, "/events"), headers=guest) as socket:
            assert socket.receive_json()["type"] == "state"
            clock.advance(leases.LEASE)
            wait_until(lambda: space_id in rooms_of(node_b).rooms, what="node-b takes over")
            assert socket.receive_json()["type"] == "moved"
        assert owner_of(first, space_id) == "node-b"

        # The room carries on on node-b with its roster; asked through either node.
        for node in (node_a, node_b):
            state = node.get(room(space_id), headers=guest).json()
            roles = {m["username"]: m["role"] for m in state["members"]}
            assert roles == {"host": "host", "guest": "speaker"}

        before = len(listed(first, space_id))
        wait_until(lambda: len(listed(first, space_id)) >= before + 2, what="node-b records")
        # node-a gets its database back, sees the lease gone, and stops its room.
        monkeypatch.undo()
        monkeypatch.setattr(leases, "RENEW_SECONDS", 0.3)
        wait_until(lambda: space_id not in rooms_of(node_a).rooms, what="node-a lets go")

        # A page on node-a (which no longer holds the room) follows it from there, and
        # the room on node-b counts it as open.
        held = rooms_of(node_b).rooms[space_id]
        guest_id = held.state.by_username("guest").user_id
        with node_a.websocket_connect(room(space_id, "/events"), headers=guest) as socket:
            state = socket.receive_json()
            assert state["type"] == "state"
            assert {m["username"] for m in state["members"]} == {"host", "guest"}
            wait_until(lambda: held.pages_open(guest_id) >= 1, what="presence relayed")
            muted = node_a.post(room(space_id, "/members/guest/mute"), headers=host)
            assert muted.status_code == 200, muted.text
            seen = socket.receive_json()
            assert (seen["type"], seen["member"]["username"]) == ("muted", "guest")
        wait_until(lambda: held.pages_open(guest_id) == 0, what="the page's close relayed")

        ended = node_a.post(f"/api/v1/spaces/{space_id}/end", headers=host)
        assert ended.status_code == 200, ended.text

    segments = listed(first, space_id)
    assert [s[0] for s in segments] == list(range(len(segments)))
    assert sum(s[4] for s in segments) == 1  # one discontinuity: where node-b took over
    assert len({s[1] for s in segments}) == len(segments)  # no key written twice
    for (_, _, start, samples, _), (_, _, after, _, _) in itertools.pairwise(segments):
        assert after == start + samples  # one timeline, without the time lost between


def _roster(services: Services, space_id: str) -> str | None:
    with services.sessions() as session:
        return session.get_one(Space, space_id).room_roster


def test_a_node_shutting_down_hands_its_rooms_to_another(
    settings: Settings, clock: SettableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leases, "RENEW_SECONDS", 0.3)
    with (
        two_nodes(settings, clock) as (first, second),
        TestClient(create_app(first)) as node_a,
    ):
        host = register(node_a, "host")
        space_id = node_a.post(
            "/api/v1/spaces", json={"title": "Drained", "record": True}, headers=host
        ).json()["id"]
        with TestClient(create_app(second)) as node_b:
            assert node_b.post(f"/api/v1/spaces/{space_id}/start", headers=host).is_success
            wait_until(lambda: len(listed(first, space_id)) >= 2, what="segments on node-b")
        # node-b stopped: node-a took the room at once, and the Space is still live.
        wait_until(lambda: space_id in rooms_of(node_a).rooms, seconds=5, what="handover")
        assert node_a.get(f"/api/v1/spaces/{space_id}").json()["state"] == "live"
        assert owner_of(first, space_id) == "node-a"
        before = len(listed(first, space_id))
        wait_until(lambda: len(listed(first, space_id)) > before, what="node-a records")
        assert node_a.post(f"/api/v1/spaces/{space_id}/end", headers=host).status_code == 200
    segments = listed(first, space_id)
    assert sum(s[4] for s in segments) == 1
    assert [s[0] for s in segments] == list(range(len(segments)))
