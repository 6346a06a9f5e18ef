"""The settings page: display name, caption opt-out, blocked accounts."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.test_create_page import sign_up
from tests.web.test_pages import csrf_from


def test_settings_need_an_account(client: TestClient) -> None:
    page = client.get("/settings", follow_redirects=False)
    assert page.headers["location"] == "/login?next=/settings"


def test_logging_in_returns_to_the_page_that_asked(client: TestClient) -> None:
    sign_up(client, "ada")
    client.cookies.delete("airspace_session")
    login = client.get("/login", params={"next": "/settings"}).text
    assert 'name="next" value="/settings"' in login
    back = client.post(
        "/login",
        data={
            "username": "ada",
            "password": "pw-12345678",
            "next": "/settings",
            "csrf_token": csrf_from(login),
        },
        follow_redirects=False,
    )
    assert back.headers["location"] == "/settings"
    login = client.get("/login").text  # signing in gave the browser a new CSRF token
    elsewhere = client.post(
        "/login",
        data={
            "username": "ada",
            "password": "pw-12345678",
            "next": "//evil.example/",
            "csrf_token": csrf_from(login),
        },
        follow_redirects=False,
    )
    assert elsewhere.headers["location"] == "/"


def test_display_name_and_caption_opt_out(client: TestClient) -> None:
    sign_up(client, "ada")
    token = csrf_from(client.get("/settings").text)
    saved = client.post(
        "/settings",
        data={"csrf_token": token, "display_name": "  Ada   Lovelace ", "captions_opt_out": "on"},
    )
    assert saved.status_code == 200
    assert "Settings saved." in saved.text
    me = client.get("/api/v1/me").json()
    assert me["display_name"] == "Ada Lovelace"
    assert me["captions_opt_out"] is True
    client.post("/settings", data={"csrf_token": token, "display_name": "Ada"})
    assert client.get("/api/v1/me").json()["captions_opt_out"] is False
    too_long = client.post("/settings", data={"csrf_token": token, "display_name": "x" * 51})
    assert too_long.status_code == 422
    assert "at most 50 characters" in too_long.text
    assert client.get("/api/v1/me").json()["display_name"] == "Ada"
    forged = client.post("/settings", data={"display_name": "Mallory"})
    assert forged.status_code == 403
    assert client.get("/api/v1/me").json()["display_name"] == "Ada"


def test_blocking_and_unblocking(client: TestClient) -> None:
    sign_up(client, "bob")
    client.cookies.delete("airspace_session")
    sign_up(client, "ada")
    token = csrf_from(client.get("/settings").text)
    blocked = client.post("/settings/blocks", data={"csrf_token": token, "username": "@bob"})
    assert "@bob is blocked." in blocked.text
    assert 'aria-label="Unblock @bob"' in blocked.text
    assert [u["username"] for u in client.get("/api/v1/me/blocks").json()] == ["bob"]
    nobody = client.post("/settings/blocks", data={"csrf_token": token, "username": "nobody"})
    assert nobody.status_code == 404
    assert "No user named" in nobody.text
    myself = client.post("/settings/blocks", data={"csrf_token": token, "username": "ada"})
    assert myself.status_code == 422
    unblocked = client.post("/settings/blocks/bob/unblock", data={"csrf_token": token})
    assert "@bob is no longer blocked." in unblocked.text
    assert client.get("/api/v1/me/blocks").json() == []
