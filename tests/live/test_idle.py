"""A live Space where nobody talks and nobody holds a microphone ends by itself, after
warning the room."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from airspace.live import leases
from airspace.live.rooms import IDLE_WARNING_SECONDS
from airspace.wiring import Services
from tests.conftest import register


def test_an_idle_space_is_warned_then_ends(
    client: TestClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(leases, "RENEW_SECONDS", 0.1)  # the room checks run this often
    host = register(client, "host")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Quiet", "record": True}, headers=host
    ).json()["id"]
    assert client.post(f"/api/v1/spaces/{space_id}/start", headers=host).status_code == 200
    room = client.app.state.rooms.rooms[space_id]  # type: ignore[attr-defined]
    limit = services.settings.idle_end_minutes * 60
    with client.websocket_connect(f"/api/v1/spaces/{space_id}/room/events", headers=host) as ws:
        assert ws.receive_json()["type"] == "state"
        room.last_active -= limit - IDLE_WARNING_SECONDS / 2  # quiet for a while already
        warning = ws.receive_json()
        assert warning["type"] == "idle_warning"
        assert 0 < warning["ends_in_seconds"] <= IDLE_WARNING_SECONDS / 2
        room.last_active -= IDLE_WARNING_SECONDS
        assert ws.receive_json()["type"] == "ended"
    space = client.get(f"/api/v1/spaces/{space_id}").json()
    assert space["state"] == "ended"
    assert space["recording"]["state"] in ("processing", "available")
