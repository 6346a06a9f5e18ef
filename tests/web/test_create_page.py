"""Creating a Space from the web form: live now, scheduled, and the form's errors."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.test_pages import csrf_from


def sign_up(client: TestClient, username: str) -> None:
    """Sign up through the page, as a browser does: the client keeps the session cookie."""
    token = csrf_from(client.get("/signup").text)
    client.post(
        "/signup", data={"username": username, "password": "pw-12345678", "csrf_token": token}
    )


def signed_in_form(client: TestClient) -> str:
    sign_up(client, "ada")
    page = client.get("/spaces/new")
    assert page.status_code == 200
    return csrf_from(page.text)


def test_the_create_form_needs_an_account(client: TestClient) -> None:
    page = client.get("/spaces/new", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/spaces/new"


def test_scheduling_a_space_in_the_hosts_time_zone(client: TestClient) -> None:
    token = signed_in_form(client)
    created = client.post(
        "/spaces/new",
        data={
            "csrf_token": token,
            "title": "Plants at dawn",
            "description": "Seedlings",
            "topics": ["Science", "Music"],
            "record": "on",
            "when": "later",
            "starts_at": "2026-11-23T10:00",
            "utc_offset_minutes": "-60",  # the browser is an hour ahead of UTC
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    space_id = created.headers["location"].rsplit("/", 1)[1]
    space = client.get(f"/api/v1/spaces/{space_id}").json()
    assert space["state"] == "scheduled"
    assert space["scheduled_start"].startswith("2026-11-23T09:00:00")
    assert space["topics"] == ["Science", "Music"]
    assert space["record"] is True


def test_going_live_now_opens_the_room(client: TestClient) -> None:
    token = signed_in_form(client)
    created = client.post(
        "/spaces/new",
        data={"csrf_token": token, "title": "Right now", "when": "now"},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    space_id = created.headers["location"].rsplit("/", 1)[1]
    space = client.get(f"/api/v1/spaces/{space_id}").json()
    assert space["state"] == "live"
    assert space["record"] is False  # an unticked toggle sends nothing
    page = client.get(f"/i/spaces/{space_id}").text
    assert 'aria-label="Live room"' in page
    assert 'data-me="ada"' in page
    client.post(f"/api/v1/spaces/{space_id}/end", headers={"X-CSRF-Token": token})


def test_the_form_comes_back_with_the_reason_and_what_was_typed(client: TestClient) -> None:
    token = signed_in_form(client)
    too_many = client.post(
        "/spaces/new",
        data={
            "csrf_token": token,
            "title": "Four topics",
            "description": "Too much",
            "topics": ["Science", "Music", "Sports", "Technology"],
            "when": "now",
        },
    )
    assert too_many.status_code == 422
    assert "At most 3 topics." in too_many.text
    assert 'value="Four topics"' in too_many.text
    assert ">Too much</textarea>" in too_many.text
    no_title = client.post("/spaces/new", data={"csrf_token": token, "title": "  "})
    assert no_title.status_code == 422
    assert "Title must be 1 to 70 characters" in no_title.text
    control = client.post("/spaces/new", data={"csrf_token": token, "title": "a\x00b"})
    assert control.status_code == 422
    assert "control character" in control.text
    bad_time = client.post(
        "/spaces/new",
        data={"csrf_token": token, "title": "Soon", "when": "later", "starts_at": "tomorrow"},
    )
    assert bad_time.status_code == 422
    assert "Choose the date and time" in bad_time.text
    past = client.post(
        "/spaces/new",
        data={
            "csrf_token": token,
            "title": "Soon",
            "when": "later",
            "starts_at": "2020-01-01T10:00",
        },
    )
    assert past.status_code == 422
    assert "must be in the future" in past.text
    assert client.get("/api/v1/spaces", params={"state": "upcoming"}).json()["items"] == []


def test_the_create_form_refuses_a_post_without_its_token(client: TestClient) -> None:
    signed_in_form(client)
    refused = client.post("/spaces/new", data={"title": "Forged", "when": "now"})
    assert refused.status_code == 403
    assert client.get("/api/v1/spaces", params={"state": "live"}).json()["items"] == []


def test_a_scheduled_space_offers_a_calendar_reminder(client: TestClient) -> None:
    token = signed_in_form(client)
    created = client.post(
        "/spaces/new",
        data={
            "csrf_token": token,
            "title": "Dawn chorus; birds, songs",
            "description": "Bring\r\ncoffee",  # browsers send a textarea's lines with CRLF
            "when": "later",
            "starts_at": "2026-11-23T06:30",
        },
        follow_redirects=False,
    )
    space_id = created.headers["location"].rsplit("/", 1)[1]
    page = client.get(f"/i/spaces/{space_id}").text
    assert f'href="/i/spaces/{space_id}/reminder.ics"' in page
    assert "Start now" in page  # the host's page
    ics = client.get(f"/i/spaces/{space_id}/reminder.ics")
    assert ics.status_code == 200
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.text.startswith("BEGIN:VCALENDAR\r\n")
    lines = ics.text.split("\r\n")
    assert all(len(line.encode()) <= 75 for line in lines)
    unfolded = ics.text.replace("\r\n ", "")
    assert "DTSTART:20261123T063000Z" in unfolded
    assert "DTEND:20261123T073000Z" in unfolded
    assert "SUMMARY:Dawn chorus\\; birds\\, songs (Airspace)" in unfolded
    assert "Bring\\ncoffee" in unfolded
    assert f"/i/spaces/{space_id}" in unfolded
    assert "TRIGGER:-PT10M" in unfolded

    # Going live from the page; then there is nothing left to be reminded of.
    started = client.post(
        f"/i/spaces/{space_id}/start", data={"csrf_token": token}, follow_redirects=False
    )
    assert started.status_code == 303
    assert client.get(f"/api/v1/spaces/{space_id}").json()["state"] == "live"
    gone = client.get(f"/i/spaces/{space_id}/reminder.ics")
    assert gone.status_code == 409
    assert "scheduled" in gone.json()["detail"]
    client.post(f"/api/v1/spaces/{space_id}/end", headers={"X-CSRF-Token": token})
