from __future__ import annotations

import re

from fastapi.testclient import TestClient

from airspace.accounts.auth import CSRF_COOKIE, SESSION_COOKIE
from tests.conftest import register


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def test_signup_form_logs_in(client: TestClient) -> None:
    page = client.get("/signup")
    assert page.status_code == 200
    assert CSRF_COOKIE in page.cookies
    token = csrf_from(page.text)
    response = client.post(
        "/signup",
        data={"username": "ada", "password": "pw-12345678", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert SESSION_COOKIE in response.cookies
    home = client.get("/")
    assert "ada" in home.text
    assert "Log out" in home.text


def test_form_posts_without_csrf_are_refused(client: TestClient) -> None:
    client.get("/signup")
    refused = client.post("/signup", data={"username": "ada", "password": "pw-12345678"})
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    other_browser = TestClient(client.app)
    forged = other_browser.post(
        "/login",
        data={
            "username": "ada",
            "password": "pw-12345678",
            "csrf_token": csrf_from(client.get("/login").text),
        },
    )
    assert forged.status_code == 403


def test_login_form_errors_and_logout(client: TestClient) -> None:
    register(client, "ada", "pw-12345678")
    token = csrf_from(client.get("/login").text)
    wrong = client.post("/login", data={"username": "ada", "password": "nope", "csrf_token": token})
    assert wrong.status_code == 401
    assert "Wrong username or password" in wrong.text
    ok = client.post(
        "/login",
        data={"username": "ada", "password": "pw-12345678", "csrf_token": token},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    assert client.get("/api/v1/me").status_code == 200
    out = client.post(
        "/logout", data={"csrf_token": csrf_from(client.get("/").text)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert client.get("/api/v1/me").status_code == 401


def test_space_page_and_home_cards(client: TestClient) -> None:
    host = register(client, "host")
    space = client.post(
        "/api/v1/spaces",
        json={"title": "Night <owls>", "record": True, "topics": ["Music"]},
        headers=host,
    ).json()
    client.post(f"/api/v1/spaces/{space['id']}/start", headers=host)
    page = client.get(f"/i/spaces/{space['id']}")
    assert page.status_code == 200
    assert "Night &lt;owls&gt;" in page.text
    assert 'title="This Space is being recorded" >REC · Recording<' in page.text
    assert 'data-recording="true"' in page.text
    home = client.get("/")
    assert f"/i/spaces/{space['id']}" in home.text
    assert ">REC<" in home.text
    assert "Live now" in home.text
    missing = client.get("/i/spaces/AAAAAAAAAAAAA")
    assert missing.status_code == 404
    assert "No Space" in missing.text
    assert "<h1>Page not found</h1>" in missing.text
