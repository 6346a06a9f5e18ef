"""Two nodes sharing a database and Redis: room commands sent to the node without the
room are relayed to the one that holds it, and answered with its answer."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from airspace.app import create_app
from airspace.clock import SettableClock
from airspace.config import Settings
from airspace.wiring import build_services
from tests.conftest import REDIS_URL, register


def room(space_id: str, path: str = "") -> str:
    return f"/api/v1/spaces/{space_id}/room{path}"


def test_room_commands_sent_to_any_node_reach_the_room(
    settings: Settings, clock: SettableClock
) -> None:
    shared = replace(settings, events_url=REDIS_URL, media_workers=0)
    first = build_services(replace(shared, node_id="node-a"), clock=clock)
    second = build_services(replace(shared, node_id="node-b"), clock=clock)
    try:
        with TestClient(create_app(first)) as node_a, TestClient(create_app(second)) as node_b:
            host = register(node_a, "host")
            guest = register(node_b, "guest")
            space_id = node_a.post(
                "/api/v1/spaces", json={"title": "Two nodes", "record": True}, headers=host
            ).json()["id"]
            assert node_a.post(f"/api/v1/spaces/{space_id}/start", headers=host).is_success
            assert node_a.post(room(space_id, "/join"), headers=host).is_success

            # The guest and then the host act through the node without the room.
            joined = node_b.post(room(space_id, "/join"), headers=guest)
            assert joined.status_code == 200, joined.text
            assert node_b.post(room(space_id, "/requests"), headers=guest).status_code == 200
            approved = node_b.post(
                room(space_id, "/speakers"), json={"username": "guest"}, headers=host
            )
            assert approved.status_code == 200, approved.text
            state = node_b.get(room(space_id), headers=guest).json()
            roles = {m["username"]: m["role"] for m in state["members"]}
            assert roles == {"host": "host", "guest": "speaker"}
            # Its own rules travel too: the guest cannot end the host's Space.
            assert node_b.post(f"/api/v1/spaces/{space_id}/end", headers=guest).status_code == 403

            ended = node_b.post(f"/api/v1/spaces/{space_id}/end", headers=host)
            assert ended.status_code == 200, ended.text
            assert ended.json()["state"] == "ended"
            assert space_id not in node_a.app.state.rooms.rooms  # type: ignore[attr-defined]
            recording = node_a.get(f"/api/v1/spaces/{space_id}/recording").json()
            assert recording["state"] in ("processing", "available")
    finally:
        first.close()
        second.close()
