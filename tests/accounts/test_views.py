from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from airspace.accounts.auth import CSRF_COOKIE, SESSION_COOKIE
from airspace.accounts.models import Role, User
from airspace.wiring import Services
from tests.conftest import register, replace_cookie


def test_register_sets_a_signed_httponly_samesite_session_cookie(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/register", json={"username": "ada", "password": "pw-12345678"}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user"] == {
        "username": "ada",
        "display_name": "ada",
        "role": "user",
        "captions_opt_out": False,
        "podcast_feed": False,
        "email": None,
        "bio": "",
        "avatar_url": "/@ada/avatar?v=0",
    }
    cookie_header = ";".join(response.headers.get_list("set-cookie"))
    assert f"{SESSION_COOKIE}=" in cookie_header
    session_cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    ).lower()
    assert "httponly" in session_cookie
    assert "samesite=lax" in session_cookie
    assert client.get("/api/v1/me").json()["username"] == "ada"


def test_password_is_stored_as_argon2(client: TestClient, services: Services) -> None:
    register(client, "ada", "pw-12345678")
    with services.sessions() as session:
        user = session.query(User).filter_by(username="ada").one()
    assert user.password_hash.startswith("$argon2id$")
    assert "pw-12345678" not in user.password_hash


def test_tampered_session_cookie_is_not_a_login(client: TestClient) -> None:
    client.post("/api/v1/auth/register", json={"username": "ada", "password": "pw-12345678"})
    value = client.cookies[SESSION_COOKIE]
    replace_cookie(
        client, SESSION_COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    )
    assert client.get("/api/v1/me").status_code == 401


def test_login_logout(client: TestClient) -> None:
    register(client, "ada", "pw-12345678")
    wrong = client.post("/api/v1/auth/login", json={"username": "ada", "password": "nope-nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "wrong username or password"}
    unknown = client.post("/api/v1/auth/login", json={"username": "bob", "password": "nope-nope"})
    assert unknown.json() == wrong.json()
    login = client.post("/api/v1/auth/login", json={"username": "ada", "password": "pw-12345678"})
    assert login.status_code == 200
    csrf = login.json()["csrf_token"]
    stolen_cookie = client.cookies[SESSION_COOKIE]
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    # The session is gone on the server, not only from the browser.
    replace_cookie(client, SESSION_COOKIE, stolen_cookie)
    assert client.get("/api/v1/me").status_code == 401


def test_cookie_writes_need_the_csrf_header(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/register", json={"username": "ada", "password": "pw-12345678"}
    )
    csrf = response.json()["csrf_token"]
    body = {"title": "Morning show"}
    refused = client.post("/api/v1/spaces", json=body)
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    forged = client.post("/api/v1/spaces", json=body, headers={"X-CSRF-Token": "0" * 64})
    assert forged.status_code == 403
    accepted = client.post("/api/v1/spaces", json=body, headers={"X-CSRF-Token": csrf})
    assert accepted.status_code == 201
    # The token is tied to this browser's nonce: another nonce invalidates it.
    replace_cookie(client, CSRF_COOKIE, "another-nonce")
    assert (
        client.post("/api/v1/spaces", json=body, headers={"X-CSRF-Token": csrf}).status_code == 403
    )


def test_api_tokens(client: TestClient) -> None:
    headers = register(client, "ada")
    assert client.get("/api/v1/me", headers=headers).json()["username"] == "ada"
    tokens = client.get("/api/v1/me/tokens", headers=headers).json()
    assert [t["name"] for t in tokens] == ["tests"]
    assert "token" not in tokens[0]
    assert tokens[0]["last_used_at"] is not None
    second = client.post("/api/v1/me/tokens", json={"name": "cli"}, headers=headers).json()
    other = {"Authorization": f"Bearer {second['token']}"}
    assert client.delete(f"/api/v1/me/tokens/{second['id']}", headers=headers).status_code == 204
    revoked = client.get("/api/v1/me", headers=other)
    assert revoked.status_code == 401
    assert revoked.json() == {"detail": "invalid API token"}
    assert client.get("/api/v1/me", headers={"Authorization": "Basic abc"}).status_code == 401


def test_tokens_belong_to_their_owner(client: TestClient) -> None:
    ada = register(client, "ada")
    bob = register(client, "bob")
    ada_token = client.get("/api/v1/me/tokens", headers=ada).json()[0]
    assert client.delete(f"/api/v1/me/tokens/{ada_token['id']}", headers=bob).status_code == 404


def test_registration_rules(client: TestClient) -> None:
    register(client, "ada")
    taken = client.post(
        "/api/v1/auth/register", json={"username": "ada", "password": "pw-12345678"}
    )
    assert taken.status_code == 409
    short = client.post("/api/v1/auth/register", json={"username": "eve", "password": "short"})
    assert short.status_code == 422
    assert "password" in short.json()["detail"]
    bad_name = client.post(
        "/api/v1/auth/register", json={"username": "a b", "password": "pw-12345678"}
    )
    assert bad_name.status_code == 422


def test_usernames_are_one_whatever_their_case(client: TestClient) -> None:
    register(client, "Host")
    for name in ("host", "HOST"):
        taken = client.post(
            "/api/v1/auth/register", json={"username": name, "password": "pw-12345678"}
        )
        assert taken.status_code == 409
    login = client.post(
        "/api/v1/auth/login", json={"username": "hOsT", "password": "correct horse"}
    )
    assert login.status_code == 200
    assert client.get("/api/v1/me").json()["username"] == "Host"


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("12345678", "most common"),
        ("Password1", "most common"),
        ("        ", "only spaces"),
        ("Eve_the_user", "your username"),
    ],
)
def test_weak_passwords_are_refused(client: TestClient, password: str, reason: str) -> None:
    refused = client.post(
        "/api/v1/auth/register", json={"username": "eve_the_user", "password": password}
    )
    assert refused.status_code == 422
    assert reason in refused.json()["detail"]


def test_block_and_unblock(client: TestClient) -> None:
    ada = register(client, "ada")
    register(client, "bob")
    assert client.put("/api/v1/me/blocks/bob", headers=ada).status_code == 204
    assert client.put("/api/v1/me/blocks/bob", headers=ada).status_code == 204  # idempotent
    assert [u["username"] for u in client.get("/api/v1/me/blocks", headers=ada).json()] == ["bob"]
    assert client.put("/api/v1/me/blocks/ada", headers=ada).status_code == 422
    assert client.put("/api/v1/me/blocks/nobody", headers=ada).status_code == 404
    assert client.delete("/api/v1/me/blocks/bob", headers=ada).status_code == 204
    assert client.get("/api/v1/me/blocks", headers=ada).json() == []


def test_only_admins_change_roles(client: TestClient, services: Services) -> None:
    ada = register(client, "ada")
    register(client, "bob")
    assert (
        client.put("/api/v1/users/bob/role", json={"role": "moderator"}, headers=ada).status_code
        == 403
    )
    with services.sessions() as session:
        session.query(User).filter_by(username="ada").one().role = Role.ADMIN
        session.commit()
    changed = client.put("/api/v1/users/bob/role", json={"role": "moderator"}, headers=ada)
    assert changed.status_code == 200
    assert client.get("/api/v1/users/bob").json()["role"] == "moderator"


def test_the_last_admin_keeps_the_role(client: TestClient, services: Services) -> None:
    ada = register(client, "ada")
    register(client, "bob")
    with services.sessions() as session:
        session.query(User).filter_by(username="ada").one().role = Role.ADMIN
        session.commit()
    refused = client.put("/api/v1/users/ada/role", json={"role": "user"}, headers=ada)
    assert refused.status_code == 409
    assert "last admin" in refused.json()["detail"]
    assert client.put("/api/v1/users/bob/role", json={"role": "admin"}, headers=ada).is_success
    assert client.put("/api/v1/users/ada/role", json={"role": "user"}, headers=ada).is_success
    assert client.get("/api/v1/users/ada").json()["role"] == "user"


def test_settings_caption_opt_out(client: TestClient) -> None:
    ada = register(client, "ada")
    updated = client.patch(
        "/api/v1/me", json={"captions_opt_out": True, "display_name": "Ada L."}, headers=ada
    )
    assert updated.json()["captions_opt_out"] is True
    assert client.get("/api/v1/me", headers=ada).json()["display_name"] == "Ada L."


def test_logging_in_gives_a_new_csrf_token(client: TestClient) -> None:
    first = client.post(
        "/api/v1/auth/register", json={"username": "ada", "password": "correct horse"}
    ).json()["csrf_token"]
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": first})
    second = client.post(
        "/api/v1/auth/login", json={"username": "ada", "password": "correct horse"}
    ).json()["csrf_token"]
    assert second != first
    stale = client.patch("/api/v1/me", json={"display_name": "A"}, headers={"X-CSRF-Token": first})
    assert stale.status_code == 403
    fresh = client.patch("/api/v1/me", json={"display_name": "A"}, headers={"X-CSRF-Token": second})
    assert fresh.status_code == 200
