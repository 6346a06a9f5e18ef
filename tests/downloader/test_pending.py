"""Downloads asked for ahead: a listener asks for a scheduled Space of this instance on
the download page, is told when it starts, and gets the file once the replay is out."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from airspace.media.peer import SpeakerPeer, tone
from tests.audio import decode
from tests.conftest import LiveServer
from tests.live.test_speakers import connect_microphone


def _notifications(http: httpx.Client) -> list[dict[str, Any]]:
    listed = http.get("/api/v1/me/notifications")
    listed.raise_for_status()
    return list(listed.json()["items"])


def _told(http: httpx.Client, words: str, seconds: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        found = [n for n in _notifications(http) if words in n["message"]]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"never told {words!r}: {_notifications(http)}"
        time.sleep(0.3)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_scheduled_space_is_downloaded_for_whoever_asked(live_server: LiveServer) -> None:
    host = live_server.register("host")
    fan = live_server.register("fan")
    starts = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    space_id = live_server.create_space(host, record=True, title="Later", scheduled_start=starts)
    page = f"{live_server.base}/i/spaces/{space_id}"
    with httpx.Client(base_url=live_server.base, headers=fan, timeout=20) as http:
        # Downloading it now is refused at once, saying what to do instead.
        now = http.post("/api/v1/downloads", json={"url": page, "format": "mp3"})
        assert now.status_code == 409
        assert now.json()["detail"] == (
            "this Space has not started yet; ask to be notified and it downloads once it ends"
        )
        asked = http.post("/api/v1/downloads/ahead", json={"url": page, "format": "mp3"})
        assert asked.status_code == 201, asked.text
        assert asked.json()["title"] == "Later"
        assert asked.json()["state"] == "scheduled"
        assert [a["space_id"] for a in http.get("/api/v1/downloads/ahead").json()] == [space_id]

    async def live_part() -> None:
        async with httpx.AsyncClient(base_url=live_server.base, headers=host, timeout=20) as http:
            (await http.post(f"/api/v1/spaces/{space_id}/start")).raise_for_status()
            # The recording exists from the start; the host lets listeners download it.
            allowed = await http.patch(
                f"/api/v1/spaces/{space_id}/recording", json={"downloads_allowed": True}
            )
            allowed.raise_for_status()
            await http.post(f"/api/v1/spaces/{space_id}/room/join")
            peer = SpeakerPeer(tone(440))
            await connect_microphone(http, space_id, peer)
            await asyncio.sleep(4)
            await peer.close()
            (await http.post(f"/api/v1/spaces/{space_id}/end")).raise_for_status()

    with httpx.Client(base_url=live_server.base, headers=fan, timeout=20) as http:
        asyncio.run(live_part())
        started = _told(http, "Later has started")
        assert started["message"] == "Later has started; your MP3 will be ready when it ends"
        assert started["link"] == f"/i/spaces/{space_id}"
        ready = _told(http, "is ready to download")
        assert ready["message"] == "Your MP3 of Later is ready to download"
        job = ready["link"].removeprefix("/download?job=")
        state = http.get(f"/api/v1/downloads/{job}").json()
        assert state["status"] == "done", state
        saved = http.get(state["file_url"])
        assert saved.status_code == 200
        recorded = http.get(f"/api/v1/spaces/{space_id}/recording").json()["playable_seconds"]
        audio, rate = decode(saved.content)
        assert len(audio) / rate == pytest.approx(recorded, abs=0.1)
        assert http.get("/api/v1/downloads/ahead").json() == []  # done with


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_asking_ahead_says_what_cannot_be(live_server: LiveServer) -> None:
    host = live_server.register("host")
    fan = live_server.register("fan")
    space_id = live_server.create_space(host, record=True, title="Maybe")
    unrecorded = live_server.create_space(host, record=False, title="Off the record")
    base = live_server.base
    page = f"{base}/i/spaces/{space_id}"
    with httpx.Client(base_url=base, headers=fan, timeout=20) as http:
        anonymous = httpx.post(f"{base}/api/v1/downloads/ahead", json={"url": page})
        assert anonymous.status_code == 401
        elsewhere = http.post(
            "/api/v1/downloads/ahead", json={"url": "https://x.com/i/spaces/1AbCdEfGhIjKl"}
        )
        assert elsewhere.status_code == 422
        assert "only Spaces of this instance" in elsewhere.json()["detail"]
        off = http.post("/api/v1/downloads/ahead", json={"url": f"{base}/i/spaces/{unrecorded}"})
        assert off.status_code == 409
        assert off.json()["detail"] == (
            "this Space is not being recorded, so there will be nothing to download"
        )
        assert http.delete(f"/api/v1/downloads/ahead/{space_id}").status_code == 404
        # Before it starts the host has not said whether listeners may keep it: the fan
        # may ask, and is told when the Space is canceled that nothing is coming.
        asked = http.post("/api/v1/downloads/ahead", json={"url": page, "format": "m4a"})
        assert asked.status_code == 201, asked.text
        httpx.post(f"{base}/api/v1/spaces/{space_id}/cancel", headers=host).raise_for_status()
        told = _told(http, "canceled")
        assert told["message"] == "Maybe was canceled, so there is nothing to download"
        assert http.get("/api/v1/downloads/ahead").json() == []
        canceled = http.post("/api/v1/downloads/ahead", json={"url": page})
        assert canceled.status_code == 409
        assert canceled.json()["detail"] == "this Space was canceled"

        # Live, without the host's leave to download: refused at once.
        live = live_server.create_space(host, record=True, title="Now")
        httpx.post(f"{base}/api/v1/spaces/{live}/start", headers=host).raise_for_status()
        refused = http.post("/api/v1/downloads/ahead", json={"url": f"{base}/i/spaces/{live}"})
        assert refused.status_code == 409
        assert refused.json()["detail"] == (
            "the host has not allowed listeners to download this Space"
        )
        httpx.post(f"{base}/api/v1/spaces/{live}/end", headers=host).raise_for_status()
