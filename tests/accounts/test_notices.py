"""An account whose sign-ins were paused hears of it: a notice on every page and through
the API, once per pause, until its owner dismisses it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from airspace.accounts.throttle import FAILED_LOGINS_PER_ACCOUNT
from airspace.clock import SettableClock
from tests.conftest import register
from tests.web.test_create_page import sign_up
from tests.web.test_pages import csrf_from


def fail_to_log_in(client: TestClient, username: str, times: int) -> None:
    for _ in range(times):
        client.post("/api/v1/auth/login", json={"username": username, "password": "guess 1234"})


def test_a_paused_account_is_told_once_and_the_notice_can_be_dismissed(
    client: TestClient, clock: SettableClock
) -> None:
    owner = register(client, "ada")
    assert client.get("/api/v1/me/notices", headers=owner).json() == []
    fail_to_log_in(client, "ADA", FAILED_LOGINS_PER_ACCOUNT.count + 5)  # paused after 10
    notices = client.get("/api/v1/me/notices", headers=owner).json()
    assert len(notices) == 1
    message = notices[0]["message"]
    assert message.startswith("10 sign-ins to your account failed, the last from testclient")
    assert "paused for 15 minutes" in message
    # Another pause later is another notice.
    clock.advance(FAILED_LOGINS_PER_ACCOUNT.window)
    fail_to_log_in(client, "ada", FAILED_LOGINS_PER_ACCOUNT.count)
    assert len(client.get("/api/v1/me/notices", headers=owner).json()) == 2
    # Only its owner sees or dismisses it.
    stranger = register(client, "eve")
    assert client.get("/api/v1/me/notices", headers=stranger).json() == []
    refused = client.delete(f"/api/v1/me/notices/{notices[0]['id']}", headers=stranger)
    assert refused.status_code == 404
    gone = client.delete(f"/api/v1/me/notices/{notices[0]['id']}", headers=owner)
    assert gone.status_code == 204
    assert len(client.get("/api/v1/me/notices", headers=owner).json()) == 1


def test_failing_for_a_name_nobody_has_tells_nobody(client: TestClient) -> None:
    fail_to_log_in(client, "nobody", FAILED_LOGINS_PER_ACCOUNT.count)
    refused = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    assert refused.status_code == 429


def test_every_page_shows_the_notice_until_it_is_dismissed(client: TestClient) -> None:
    sign_up(client, "ada")
    session = client.cookies.get("airspace_session")
    client.cookies.delete("airspace_session")
    fail_to_log_in(client, "ada", FAILED_LOGINS_PER_ACCOUNT.count)
    client.cookies.set("airspace_session", str(session))
    home = client.get("/").text
    assert "sign-ins to your account failed" in home
    action = home.split('action="/settings/notices/')[1].split('"')[0]
    dismissed = client.post(f"/settings/notices/{action}", data={"csrf_token": csrf_from(home)})
    assert dismissed.status_code == 200
    assert "Notice dismissed." in dismissed.text
    assert "sign-ins to your account failed" not in client.get("/").text
