"""Errors a browser meets are pages in the site's layout, written for people; the API and
clients that do not ask for HTML keep JSON."""

from __future__ import annotations

from fastapi.testclient import TestClient

from airspace.app import create_app
from airspace.web.error_pages import as_sentence, bare_page
from airspace.wiring import Services
from tests.conftest import register

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_an_unknown_address_is_a_page_for_a_browser_and_json_for_the_rest(
    client: TestClient,
) -> None:
    page = client.get("/no/such/page", headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in page.text
    assert "There is no page at this address." in page.text
    assert 'href="/"' in page.text
    assert client.get("/no/such/page").json() == {"detail": "Not Found"}
    api = client.get("/api/v1/no/such/thing", headers=BROWSER)
    assert api.status_code == 404
    assert api.json() == {"detail": "Not Found"}


def test_refusals_on_pages_read_as_sentences_with_the_account_still_shown(
    client: TestClient,
) -> None:
    host = register(client, "hana")
    space_id = client.post("/api/v1/spaces", json={"title": "Tides"}, headers=host).json()["id"]
    client.post("/login", data={})  # a browser with no session: the top bar offers Log in
    refused = client.get(f"/i/spaces/{space_id}/reminder.ics", headers=BROWSER)
    assert refused.status_code == 409
    assert "<h1>Not right now</h1>" in refused.text
    assert "Only a scheduled Space has a start time to be reminded of." in refused.text
    assert "Log in" in refused.text


def test_sentences_start_with_a_capital_and_end_with_a_stop() -> None:
    assert as_sentence("the space is not live") == "The space is not live."
    assert as_sentence("Are you sure?") == "Are you sure?"
    assert as_sentence("").startswith("The server ran into a problem")


def test_an_unexpected_error_is_a_page_that_says_so(services: Services) -> None:
    app = create_app(services)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken)
    with TestClient(app, raise_server_exceptions=False) as browser:
        page = browser.get("/broken", headers=BROWSER)
    assert page.status_code == 500
    assert "<h1>Something went wrong</h1>" in page.text
    assert "a bug" not in page.text  # no internals
    assert "The server ran into a problem it did not expect." in page.text


def test_an_outage_page_needs_neither_database_nor_storage() -> None:
    page = bare_page(
        503, "the database is unavailable; try again in a moment", {"Retry-After": "30"}
    )
    assert page.status_code == 503
    assert page.headers["retry-after"] == "30"
    assert b"<h1>Airspace is busy</h1>" in page.body
    assert b"The database is unavailable; try again in a moment." in page.body
