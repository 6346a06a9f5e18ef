"""Sharing inside the instance: to followers (their Following feed) or to chosen accounts
(a notification each); the share sheet's links; blocked accounts kept out."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import register
from tests.sharing.test_follows_and_notifications import messages


def test_a_share_reaches_chosen_accounts_and_the_sharers_followers(client: TestClient) -> None:
    host = register(client, "ana")
    sharer = register(client, "bob")
    friend = register(client, "cyd")
    follower = register(client, "dee")
    space_id = client.post("/api/v1/spaces", json={"title": "Jazz hour"}, headers=host).json()["id"]
    client.put("/api/v1/users/bob/follow", headers=follower)

    shared = client.post(
        f"/api/v1/spaces/{space_id}/shares",
        json={"comment": "Listen from here", "to": ["@CYD"], "followers": True, "at": 90.5},
        headers=sharer,
    )
    assert shared.status_code == 201, shared.text
    assert shared.json()["notified"] == 1
    assert messages(client, friend) == ["bob shared Jazz hour with you: “Listen from here”"]
    link = client.get("/api/v1/me/notifications", headers=friend).json()["items"][0]["link"]
    assert link == f"/i/spaces/{space_id}?t=90"
    assert messages(client, follower) == []  # followers see it in their feed instead
    links = client.get(f"/api/v1/spaces/{space_id}/share-links?t=90", headers=friend).json()
    assert links["shares"] == 1
    assert links["link_at_time"] == f"{links['link']}?t=90"
    assert 'height="420"' in links["embed_code"]
    assert links["x_intent"].startswith("https://x.com/intent/post?text=Jazz+hour&url=")


def test_share_refusals(client: TestClient) -> None:
    host = register(client, "ana")
    sharer = register(client, "bob")
    space_id = client.post("/api/v1/spaces", json={"title": "Jazz hour"}, headers=host).json()["id"]
    nowhere = client.post(f"/api/v1/spaces/{space_id}/shares", json={}, headers=sharer)
    assert nowhere.status_code == 422
    assert nowhere.json()["detail"] == "share with your followers, with some accounts, or both"
    unknown = client.post(
        f"/api/v1/spaces/{space_id}/shares", json={"to": ["nobody"]}, headers=sharer
    )
    assert unknown.status_code == 404
    anonymous = client.post(f"/api/v1/spaces/{space_id}/shares", json={"followers": True})
    assert anonymous.status_code == 401


def test_an_account_the_host_blocked_cannot_share_or_embed(client: TestClient) -> None:
    host = register(client, "ana")
    blocked = register(client, "bob")
    space_id = client.post("/api/v1/spaces", json={"title": "Jazz hour"}, headers=host).json()["id"]
    client.put("/api/v1/me/blocks/bob", headers=host)
    share = client.post(
        f"/api/v1/spaces/{space_id}/shares", json={"followers": True}, headers=blocked
    )
    assert share.status_code == 403
    assert share.json()["detail"] == ("the host has blocked you, so you cannot share their Spaces")
    links = client.get(f"/api/v1/spaces/{space_id}/share-links", headers=blocked)
    assert links.status_code == 403
    assert client.get(f"/api/v1/spaces/{space_id}/share-links").status_code == 200


def test_someone_who_blocked_the_sharer_is_not_told(client: TestClient) -> None:
    host = register(client, "ana")
    sharer = register(client, "bob")
    wary = register(client, "cyd")
    space_id = client.post("/api/v1/spaces", json={"title": "Jazz hour"}, headers=host).json()["id"]
    client.put("/api/v1/me/blocks/bob", headers=wary)
    shared = client.post(f"/api/v1/spaces/{space_id}/shares", json={"to": ["cyd"]}, headers=sharer)
    assert shared.json()["notified"] == 0
    assert messages(client, wary) == []
