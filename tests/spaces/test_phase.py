"""A Space's phase, as its page follows it: scheduled, live, the replay and its captions
being made; and the socket that sends each change."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from airspace.clock import SettableClock
from airspace.jobs.status import latest_run, mark_done, set_progress
from airspace.spaces.phase import phase_of
from airspace.wiring import Services
from tests.conftest import register


def phase(services: Services, space_id: str) -> dict[str, object]:
    with services.sessions() as session:
        return phase_of(session, space_id).as_json()


def test_the_phase_follows_a_space_through_its_life(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "hana")
    starts = (clock.now() + timedelta(hours=1)).isoformat()
    created = client.post(
        "/api/v1/spaces",
        json={"title": "Tides", "record": True, "scheduled_start": starts},
        headers=host,
    )
    space_id = created.json()["id"]
    assert phase(services, space_id)["view"] == "scheduled"
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host).raise_for_status()
    live = phase(services, space_id)
    assert (live["view"], live["recording"]) == ("live", "recording")
    client.post(f"/api/v1/spaces/{space_id}/end", headers=host).raise_for_status()
    ended = phase(services, space_id)
    # The replay is offered at once (it says it is being prepared); captions are queued.
    assert (ended["view"], ended["recording"], ended["captions"]) == (
        "replay",
        "processing",
        "queued",
    )
    with services.sessions() as session:
        run = latest_run(session, "captions.transcribe", space_id)
        assert run is not None
        run_id = run.id
    set_progress(services, run_id, 0.4)
    assert phase(services, space_id)["captions_progress"] == 0.4
    mark_done(services, run_id)
    assert phase(services, space_id)["captions"] == "done"
    client.delete(f"/api/v1/spaces/{space_id}/recording", headers=host).raise_for_status()
    assert phase(services, space_id)["view"] == "ended:deleted"


def test_the_socket_sends_the_phase_then_each_change(
    client: TestClient, services: Services
) -> None:
    client.app.state.phase_watch.poll_seconds = 0.05  # type: ignore[attr-defined]
    host = register(client, "hana")
    space_id = client.post("/api/v1/spaces", json={"title": "Tides"}, headers=host).json()["id"]
    with client.websocket_connect(f"/api/v1/spaces/{space_id}/phase") as socket:
        assert socket.receive_json()["view"] == "scheduled"
        client.post(f"/api/v1/spaces/{space_id}/start", headers=host).raise_for_status()
        assert socket.receive_json()["view"] == "live"
        client.post(f"/api/v1/spaces/{space_id}/end", headers=host).raise_for_status()
        changed = socket.receive_json()
        assert (changed["type"], changed["view"], changed["recording"]) == (
            "phase",
            "ended",
            None,
        )
        socket.send_json({"type": "ping"})  # ignored; the socket stays open
    with client.websocket_connect("/api/v1/spaces/AAAAAAAAAAAAA/phase") as socket:
        message = socket.receive()
        assert message["type"] == "websocket.close"
        assert message["code"] == 1008
