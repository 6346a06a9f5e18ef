"""Reporting a Space, and the moderators' queue."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from airspace.accounts.models import Role, User
from airspace.clock import SettableClock
from airspace.wiring import Services
from tests.conftest import register


def a_space(client: TestClient, host: dict[str, str]) -> str:
    space = client.post("/api/v1/spaces", json={"title": "Reported"}, headers=host)
    space_id: str = space.json()["id"]
    return space_id


def make_moderator(services: Services, username: str) -> None:
    with services.sessions() as session:
        session.query(User).filter_by(username=username).one().role = Role.MODERATOR
        session.commit()


def test_anyone_reports_once_and_moderators_decide(client: TestClient, services: Services) -> None:
    host = register(client, "host")
    space_id = a_space(client, host)

    # A listener without an account: once per listener session.
    first = client.post(
        f"/api/v1/spaces/{space_id}/reports",
        json={"reason": "spam", "details": "Selling things", "at_seconds": 12.5},
    )
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "open"
    again = client.post(f"/api/v1/spaces/{space_id}/reports", json={"reason": "hate"})
    assert again.status_code == 409
    assert "already reported" in again.json()["detail"]

    # Signed in: once per account, whichever browser it comes from.
    mod = register(client, "mod")
    client.cookies.clear()
    assert (
        client.post(
            f"/api/v1/spaces/{space_id}/reports", json={"reason": "harassment"}, headers=mod
        ).status_code
        == 201
    )
    client.cookies.clear()
    assert (
        client.post(
            f"/api/v1/spaces/{space_id}/reports", json={"reason": "other"}, headers=mod
        ).status_code
        == 409
    )
    own = client.post(f"/api/v1/spaces/{space_id}/reports", json={"reason": "spam"}, headers=host)
    assert own.status_code == 409

    # The queue is for moderators, oldest first; a decision closes a report.
    assert client.get("/api/v1/reports", headers=mod).status_code == 403
    make_moderator(services, "mod")
    queue = client.get("/api/v1/reports", headers=mod).json()
    assert [(r["reason"], r["at_seconds"]) for r in queue] == [("spam", 12.5), ("harassment", None)]
    decided = client.patch(
        f"/api/v1/reports/{queue[0]['id']}", json={"status": "dismissed"}, headers=mod
    )
    assert decided.json()["status"] == "dismissed"
    assert [r["reason"] for r in client.get("/api/v1/reports", headers=mod).json()] == [
        "harassment"
    ]
    dismissed = client.get("/api/v1/reports", params={"status": "dismissed"}, headers=mod)
    assert [r["details"] for r in dismissed.json()] == ["Selling things"]
    reopen = client.patch(f"/api/v1/reports/{queue[1]['id']}", json={"status": "open"}, headers=mod)
    assert reopen.status_code == 422
    assert (
        client.patch("/api/v1/reports/999", json={"status": "actioned"}, headers=mod).status_code
        == 404
    )


def test_bad_reports_are_refused_clearly(client: TestClient) -> None:
    host = register(client, "host")
    space_id = a_space(client, host)
    url = f"/api/v1/spaces/{space_id}/reports"
    assert client.post(url, json={"reason": "boring"}).status_code == 422
    assert client.post(url, json={"reason": "spam", "details": "x" * 501}).status_code == 422
    assert client.post(url, json={"reason": "spam", "details": "a\x00b"}).status_code == 422
    assert client.post(url, json={"reason": "spam", "at_seconds": -1}).status_code == 422
    missing = client.post("/api/v1/spaces/AAAAAAAAAAAAA/reports", json={"reason": "spam"})
    assert missing.status_code == 404
    assert "detail" in missing.json()


def test_one_address_cannot_flood_the_queue(client: TestClient) -> None:
    host = register(client, "host")
    spaces = [a_space(client, host) for _ in range(11)]
    for space_id in spaces[:10]:
        client.cookies.clear()  # a new listener session each time: still one address
        assert (
            client.post(f"/api/v1/spaces/{space_id}/reports", json={"reason": "spam"}).status_code
            == 201
        )
    client.cookies.clear()
    refused = client.post(f"/api/v1/spaces/{spaces[10]}/reports", json={"reason": "spam"})
    assert refused.status_code == 429
    assert "too many reports" in refused.json()["detail"]


def test_reports_close_sixty_days_after_the_end(client: TestClient, clock: SettableClock) -> None:
    host = register(client, "host")
    space_id = client.post("/api/v1/spaces", json={"title": "Old"}, headers=host).json()["id"]
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host)
    client.post(f"/api/v1/spaces/{space_id}/end", headers=host)
    url = f"/api/v1/spaces/{space_id}/reports"
    clock.advance(timedelta(days=59))
    assert client.post(url, json={"reason": "spam"}).status_code == 201
    clock.advance(timedelta(days=1))
    late = client.post(url, json={"reason": "hate"}, headers=register(client, "late"))
    assert late.status_code == 410
    assert "60 days" in late.json()["detail"]
