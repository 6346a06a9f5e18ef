"""Moderation that acts: moderators end a live Space, take a recording down and reinstate
it, suspend and unsuspend accounts, each with a reason; every destructive or moderation
action lands in the audit log that admins read."""

from __future__ import annotations

from fastapi.testclient import TestClient

from airspace.accounts.models import Role, User
from airspace.clock import SettableClock
from airspace.recordings.services import finalize
from airspace.wiring import Services
from tests.conftest import register
from tests.moderation.test_reports import make_moderator
from tests.recordings.test_lifecycle import ended_recording, load

REASON = {"reason": "breaks the community rules"}


def make_admin(services: Services, username: str) -> None:
    with services.sessions() as session:
        session.query(User).filter_by(username=username).one().role = Role.ADMIN
        session.commit()


def audit(client: TestClient, admin: dict[str, str]) -> list[tuple[str, str, str, str]]:
    entries = client.get("/api/v1/audit", headers=admin)
    assert entries.status_code == 200, entries.text
    return [(e["actor"], e["action"], e["target"], e["reason"]) for e in entries.json()]


def test_moderators_end_a_live_space_with_a_reason(client: TestClient, services: Services) -> None:
    host = register(client, "host")
    mod = register(client, "mod")
    admin = register(client, "admin")
    make_moderator(services, "mod")
    make_admin(services, "admin")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Abusive", "record": True}, headers=host
    ).json()["id"]
    assert client.post(f"/api/v1/spaces/{space_id}/start", headers=host).status_code == 200
    shutdown = f"/api/v1/spaces/{space_id}/room/shutdown"

    assert client.post(shutdown, json=REASON, headers=host).status_code == 403
    assert client.post(shutdown, json={"reason": ""}, headers=mod).status_code == 422
    ended = client.post(shutdown, json=REASON, headers=mod)
    assert ended.status_code == 200, ended.text
    assert client.get(f"/api/v1/spaces/{space_id}").json()["state"] == "ended"
    again = client.post(shutdown, json=REASON, headers=mod)
    assert again.status_code == 409
    assert audit(client, admin)[0] == (
        "mod",
        "space.ended_by_moderator",
        f"space:{space_id}",
        REASON["reason"],
    )
    assert client.get("/api/v1/audit", headers=mod).status_code == 403  # admins only
    # Admins read it on the moderation page too.
    assert "space.ended_by_moderator" in client.get("/moderation", headers=admin).text
    assert "space.ended_by_moderator" not in client.get("/moderation", headers=mod).text


def test_a_takedown_is_not_the_hosts_delete(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    host = register(client, "host")
    mod = register(client, "mod")
    admin = register(client, "admin")
    make_moderator(services, "mod")
    make_admin(services, "admin")
    space_id = ended_recording(client, clock, host)
    finalize(services, load(services, space_id).id)
    base = f"/api/v1/spaces/{space_id}/recording"
    handed_out = client.get(f"/i/spaces/{space_id}/replay.m3u8", follow_redirects=False)
    assert handed_out.status_code == 302

    assert client.post(f"{base}/takedown", json=REASON, headers=host).status_code == 403
    taken = client.post(f"{base}/takedown", json=REASON, headers=mod)
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "taken_down"
    # Gone for listeners at once, links already handed out included; the host sees why.
    gone = client.get(base)
    assert gone.status_code == 410
    assert "taken down" in gone.json()["detail"]
    assert client.get(handed_out.headers["location"]).status_code == 410
    assert client.get(base, headers=host).json()["state"] == "taken_down"
    # The host can neither undo it nor delete it away.
    assert client.post(f"{base}/restore", headers=host).status_code == 409
    assert client.delete(base, headers=host).status_code == 409
    assert client.get(f"/i/spaces/{space_id}/replay.m3u8", headers=mod).status_code == 200

    back = client.post(f"{base}/reinstate", json=REASON, headers=mod)
    assert back.status_code == 200, back.text
    assert back.json()["state"] == "available"
    assert client.get(base).status_code == 200
    assert [a for _, a, _, _ in audit(client, admin)][:2] == [
        "recording.reinstated",
        "recording.taken_down",
    ]

    # The host's own delete and restore are audited too.
    assert client.delete(base, headers=host).status_code == 204
    assert client.post(f"{base}/restore", headers=host).status_code == 200
    assert [(who, a) for who, a, _, _ in audit(client, admin)][:2] == [
        ("host", "recording.restored"),
        ("host", "recording.deleted"),
    ]


def test_a_suspended_account_is_signed_out_and_its_live_space_ends(
    client: TestClient, services: Services
) -> None:
    troll = register(client, "troll", password="correct horse battery")
    mod = register(client, "mod")
    admin = register(client, "admin")
    make_moderator(services, "mod")
    make_admin(services, "admin")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Trolling", "record": True}, headers=troll
    ).json()["id"]
    assert client.post(f"/api/v1/spaces/{space_id}/start", headers=troll).status_code == 200

    assert client.post("/api/v1/users/admin/suspend", json=REASON, headers=mod).status_code == 403
    assert client.post("/api/v1/users/mod/suspend", json=REASON, headers=mod).status_code == 409
    suspended = client.post("/api/v1/users/troll/suspend", json=REASON, headers=mod)
    assert suspended.status_code == 200, suspended.text
    assert suspended.json()["ended_spaces"] == [space_id]
    assert client.get(f"/api/v1/spaces/{space_id}").json()["state"] == "ended"
    assert client.get("/api/v1/me", headers=troll).status_code == 401  # its token is gone
    login = client.post(
        "/api/v1/auth/login", json={"username": "troll", "password": "correct horse battery"}
    )
    assert login.status_code == 403
    assert "suspended" in login.json()["detail"]

    assert client.post("/api/v1/users/troll/unsuspend", json=REASON, headers=mod).status_code == 200
    client.cookies.clear()
    login = client.post(
        "/api/v1/auth/login", json={"username": "troll", "password": "correct horse battery"}
    )
    assert login.status_code == 200
    actions = [a for _, a, _, _ in audit(client, admin)]
    assert actions[:3] == ["user.unsuspended", "space.ended_by_moderator", "user.suspended"]


def test_role_changes_and_report_decisions_are_audited(
    client: TestClient, services: Services
) -> None:
    admin = register(client, "admin")
    make_admin(services, "admin")
    host = register(client, "host")
    register(client, "helper")
    assert (
        client.put("/api/v1/users/helper/role", json={"role": "moderator"}, headers=admin)
    ).status_code == 200
    space_id = client.post("/api/v1/spaces", json={"title": "Reported"}, headers=host).json()["id"]
    report = client.post(f"/api/v1/spaces/{space_id}/reports", json={"reason": "spam"}).json()
    decided = client.patch(
        f"/api/v1/reports/{report['id']}", json={"status": "dismissed"}, headers=admin
    )
    assert decided.status_code == 200, decided.text
    entries = client.get("/api/v1/audit", headers=admin).json()
    assert [(e["action"], e["target"]) for e in entries][:2] == [
        ("report.decided", f"report:{report['id']}"),
        ("user.role_changed", "user:helper"),
    ]
    assert entries[1]["details"] == {"before": "user", "after": "moderator"}
