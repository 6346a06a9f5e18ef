"""Following a host: its followers are notified when it schedules a Space, goes live and
publishes the recording; notifications are counted until read, and streamed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from airspace.clock import SettableClock
from airspace.recordings.models import Recording
from airspace.recordings.services import finalize
from airspace.sharing.doorbell import LocalDoorbell
from airspace.wiring import Services
from tests.conftest import LiveServer, register


def notifications(client: TestClient, headers: dict[str, str]) -> dict[str, object]:
    answer = client.get("/api/v1/me/notifications", headers=headers)
    assert answer.status_code == 200
    body: dict[str, object] = answer.json()
    return body


def messages(client: TestClient, headers: dict[str, str]) -> list[str]:
    items = notifications(client, headers)["items"]
    assert isinstance(items, list)
    return [item["message"] for item in items]


def test_followers_hear_of_schedule_live_and_recording(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "ana")
    fan = register(client, "bob")
    stranger = register(client, "cyd")
    followed = client.put("/api/v1/users/ana/follow", headers=fan)
    assert followed.json() == {
        "username": "ana",
        "display_name": "ana",
        "followers": 1,
        "you_follow": True,
    }
    assert client.put("/api/v1/users/ANA/follow", headers=fan).json()["followers"] == 1
    start = (clock.now() + timedelta(days=1)).isoformat()
    space_id = client.post(
        "/api/v1/spaces",
        json={"title": "Night radio", "record": True, "scheduled_start": start},
        headers=host,
    ).json()["id"]
    assert messages(client, fan) == ["ana scheduled Night radio for Nov 22, 12:00 UTC"]
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host)
    clock.advance(timedelta(minutes=5))
    client.post(f"/api/v1/spaces/{space_id}/end", headers=host)
    with services.sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
    finalize(services, recording.id)
    body = notifications(client, fan)
    assert body["unread"] == 3
    assert messages(client, fan)[:2] == [
        "ana's recording of Night radio is ready to replay",
        "ana is live: Night radio",
    ]
    assert all(item["link"] == f"/i/spaces/{space_id}" for item in body["items"])  # type: ignore[attr-defined]
    assert messages(client, stranger) == []
    assert messages(client, host) == []

    newest = body["items"][0]["id"]  # type: ignore[index]
    assert (
        client.post(
            "/api/v1/me/notifications/read", json={"up_to": newest}, headers=fan
        ).status_code
        == 204
    )
    assert notifications(client, fan)["unread"] == 0

    unfollowed = client.delete("/api/v1/users/ana/follow", headers=fan).json()
    assert unfollowed["followers"] == 0
    assert not unfollowed["you_follow"]
    client.post("/api/v1/spaces", json={"title": "Again", "scheduled_start": start}, headers=host)
    assert notifications(client, fan)["unread"] == 0


def test_follow_refusals(client: TestClient) -> None:
    host = register(client, "ana")
    fan = register(client, "bob")
    own = client.put("/api/v1/users/ana/follow", headers=host)
    assert own.status_code == 422
    assert own.json()["detail"] == "you cannot follow yourself"
    assert client.put("/api/v1/users/nobody/follow", headers=fan).status_code == 404
    assert client.put("/api/v1/users/ana/follow").status_code == 401
    client.put("/api/v1/users/ana/follow", headers=fan)
    client.put("/api/v1/me/blocks/bob", headers=host)
    # A blocked follower hears nothing more and cannot follow again.
    assert client.get("/api/v1/users/ana/profile").json()["followers"] == 0
    client.delete("/api/v1/users/ana/follow", headers=fan)
    refused = client.put("/api/v1/users/ana/follow", headers=fan)
    assert refused.status_code == 403
    assert refused.json()["detail"] == "@ana has blocked you, so you cannot follow them"


def test_a_decided_report_tells_who_filed_it(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    from tests.moderation.test_reports import make_moderator

    host = register(client, "ana")
    reporter = register(client, "bob")
    moderator = register(client, "mod")
    make_moderator(services, "mod")
    space_id = client.post("/api/v1/spaces", json={"title": "Loud"}, headers=host).json()["id"]
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host)
    report = client.post(
        f"/api/v1/spaces/{space_id}/reports", json={"reason": "spam"}, headers=reporter
    ).json()
    client.patch(f"/api/v1/reports/{report['id']}", json={"status": "dismissed"}, headers=moderator)
    assert messages(client, reporter) == ["Your report on Loud was reviewed: it was dismissed."]


def test_the_stream_says_the_unread_count_when_a_notification_arrives(
    live_server: LiveServer,
) -> None:
    asyncio.run(_stream_scenario(live_server))


async def _stream_scenario(live_server: LiveServer) -> None:
    assert isinstance(live_server.services.doorbell, LocalDoorbell)
    host = await asyncio.to_thread(live_server.register, "ana")
    fan = await asyncio.to_thread(live_server.register, "bob")
    async with httpx.AsyncClient(base_url=live_server.base, timeout=10) as http:
        await http.put("/api/v1/users/ana/follow", headers=fan)
        async with http.stream("GET", "/api/v1/me/notifications/stream", headers=fan) as stream:
            lines = stream.aiter_lines()
            assert await anext(lines) == "event: unread"
            assert await anext(lines) == 'data: {"unread": 0}'
            space = (await http.post("/api/v1/spaces", json={"title": "Now"}, headers=host)).json()
            await http.post(f"/api/v1/spaces/{space['id']}/start", headers=host)
            # The ring comes at once, long before the stream's periodic re-read.
            event = await asyncio.wait_for(_next_event(lines), timeout=5)
            assert event == 'data: {"unread": 1}'


async def _next_event(lines: object) -> str:
    async for line in lines:  # type: ignore[attr-defined]
        if line.startswith("data:"):
            return str(line)
    raise AssertionError("the stream ended")
