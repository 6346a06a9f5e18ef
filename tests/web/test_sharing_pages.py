"""The profile page with its follow button, the Following feed, the bell's count and the
notifications page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import register
from tests.web.test_create_page import sign_up


def test_a_profile_lists_the_hosts_spaces_and_offers_to_follow(client: TestClient) -> None:
    host = register(client, "ana")
    client.post("/api/v1/spaces", json={"title": "Morning show"}, headers=host)
    live = client.post("/api/v1/spaces", json={"title": "Late show"}, headers=host).json()["id"]
    client.post(f"/api/v1/spaces/{live}/start", headers=host)
    anonymous = client.get("/@ana")
    assert anonymous.status_code == 200
    assert "Morning show" in anonymous.text
    assert "Late show" in anonymous.text
    assert "Log in to follow" in anonymous.text
    sign_up(client, "bob")
    page = client.get("/@ana").text
    assert 'data-username="ana"' in page
    assert ">Follow<" in page
    assert client.get("/@nobody").status_code == 404


def test_following_feed_bell_and_notifications(client: TestClient) -> None:
    host = register(client, "ana")
    sharer = register(client, "cyd")
    other_host = register(client, "eve")
    client.cookies.clear()
    sign_up(client, "dee")  # the browser's account, following through the API
    assert "Nothing yet" in client.get("/following").text
    token = client.get("/").text.split('name="csrf-token" content="')[1].split('"')[0]
    for who in ("ana", "cyd"):
        followed = client.put(f"/api/v1/users/{who}/follow", headers={"X-CSRF-Token": token})
        assert followed.status_code == 200
    space_id = client.post("/api/v1/spaces", json={"title": "Big news"}, headers=host).json()["id"]
    other = client.post("/api/v1/spaces", json={"title": "Elsewhere"}, headers=other_host)
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host)
    client.post(
        f"/api/v1/spaces/{other.json()['id']}/shares",
        json={"followers": True, "comment": "Worth it"},
        headers=sharer,
    )
    feed = client.get("/following").text
    assert "Big news" in feed
    assert "Elsewhere" in feed
    assert "Worth it" in feed
    home = client.get("/").text
    assert 'data-unread="1"' in home
    assert "Notifications, 1 unread" in home
    listing = client.get("/notifications").text
    assert "ana is live: Big news" in listing
    assert "(new)" in listing
    assert 'data-unread="0"' in client.get("/").text  # opening the list read it


def test_signed_out_pages_send_to_log_in(client: TestClient) -> None:
    for path in ("/following", "/notifications"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={path}"
