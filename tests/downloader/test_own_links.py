"""The web downloader takes this instance's own Space links, on a LAN or loopback
address too, and serves them from its storage without fetching anything."""

from __future__ import annotations

import time
from urllib.parse import unquote

import httpx
import pytest

from airspace.clock import SettableClock
from tests.audio import decode
from tests.conftest import LiveServer
from tests.sharing.recorded import recorded_space


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_own_links_are_served_from_storage(live_server: LiveServer, clock: SettableClock) -> None:
    services = live_server.services
    host = live_server.register("ana")
    space_id, pcm = recorded_space(live_server.base, services, clock, host, 8)
    with httpx.Client(base_url=live_server.base, timeout=20) as http:
        page = f"{live_server.base}/i/spaces/{space_id}"
        # A file to keep is the host's to allow, here as on the Space's own page.
        refused = http.post("/api/v1/downloads", json={"url": page, "format": "mp3"})
        assert refused.status_code == 403
        assert refused.json()["detail"] == (
            "the host has not allowed listeners to download this recording"
        )
        http.patch(
            f"/api/v1/spaces/{space_id}/recording", json={"downloads_allowed": True}, headers=host
        ).raise_for_status()
        started = http.post("/api/v1/downloads", json={"url": page, "format": "mp3"})
        assert started.status_code == 202, started.text
        deadline = time.monotonic() + 60
        while (state := http.get(f"/api/v1/downloads/{started.json()['id']}").json())[
            "status"
        ] not in ("done", "failed"):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert state["status"] == "done", state
        assert state["title"] == "Tide tables"
        assert state["host"] == "ana"
        saved = http.get(state["file_url"])
        assert saved.status_code == 200
        name = unquote(saved.headers["content-disposition"].split("UTF-8''")[1])
        assert name == "ana - Tide tables (2026-11-21).mp3"
        audio, _ = decode(saved.content)
        assert abs(len(audio) - len(pcm)) < 1024

        # Any other loopback address is still refused, before any job.
        elsewhere = page.replace(live_server.base, "http://127.0.0.1:9")
        refused = http.post("/api/v1/downloads", json={"url": elsewhere, "format": "mp3"})
        assert refused.status_code == 422
        assert refused.json()["detail"] == "links to internal addresses are not fetched"
