"""The moderators' page: the open reports, and deciding on them from the page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from airspace.wiring import Services
from tests.moderation.test_reports import make_moderator
from tests.web.test_create_page import sign_up
from tests.web.test_pages import csrf_from


def test_moderators_read_and_decide_reports(client: TestClient, services: Services) -> None:
    assert client.get("/moderation", follow_redirects=False).headers["location"] == (
        "/login?next=/moderation"
    )
    sign_up(client, "host")
    token = csrf_from(client.get("/spaces/new").text)
    created = client.post(
        "/spaces/new",
        data={
            "csrf_token": token,
            "title": "Night owls",
            "when": "later",
            "starts_at": "2026-11-22T10:00",
        },
        follow_redirects=False,
    )
    space_id = created.headers["location"].rsplit("/", 1)[1]
    client.cookies.clear()
    client.post(
        f"/api/v1/spaces/{space_id}/reports",
        json={"reason": "spam", "details": "Selling <watches>", "at_seconds": 75.4},
    )
    client.cookies.clear()
    sign_up(client, "mona")
    refused = client.get("/moderation")
    assert refused.status_code == 403
    assert "Only moderators" in refused.text
    make_moderator(services, "mona")
    page = client.get("/moderation")
    assert page.status_code == 200
    assert f'href="/i/spaces/{space_id}?t=75"' in page.text
    assert ">Night owls</a>" in page.text
    assert "Selling &lt;watches&gt;" in page.text
    assert "at 1:15" in page.text
    assert 'href="/moderation">Reports</a>' in page.text
    report_id = client.get("/api/v1/reports").json()[0]["id"]
    token = csrf_from(page.text)
    forged = client.post(f"/moderation/reports/{report_id}", data={"decision": "dismissed"})
    assert forged.status_code == 403
    bad = client.post(
        f"/moderation/reports/{report_id}", data={"decision": "ignore", "csrf_token": token}
    )
    assert bad.status_code == 422
    done = client.post(
        f"/moderation/reports/{report_id}", data={"decision": "actioned", "csrf_token": token}
    )
    assert f"Report {report_id} actioned." in done.text
    assert "No open reports." in done.text
    assert client.get("/api/v1/reports", params={"status": "actioned"}).json()[0]["id"] == report_id
