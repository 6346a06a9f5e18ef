"""Clip links of an Airspace instance download the clip itself, as MP3 or M4A."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from airspace.clock import SettableClock
from airspace.downloader import download
from airspace.downloader.errors import NotRecorded, UnsupportedURL
from airspace.downloader.sources import clip_id_from
from tests.audio import decode
from tests.conftest import LiveServer
from tests.sharing.recorded import recorded_space


def test_clip_links_are_told_apart_from_space_links() -> None:
    assert clip_id_from("https://spaces.example/i/clips/AbCdEfGhIjKlM") == "AbCdEfGhIjKlM"
    assert clip_id_from("https://spaces.example/i/clips/AbCdEfGhIjKlM/embed") == "AbCdEfGhIjKlM"
    assert clip_id_from("https://spaces.example/i/spaces/AbCdEfGhIjKlM") is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_clip_link_downloads_the_clip(
    live_server: LiveServer, clock: SettableClock, tmp_path: Path
) -> None:
    host = live_server.register("hana")
    space_id, _ = recorded_space(live_server.base, live_server.services, clock, host, 12, "Tides")
    with httpx.Client(base_url=live_server.base, headers=host, timeout=20) as http:
        made = http.post(
            f"/api/v1/spaces/{space_id}/clips", json={"start": 2, "end": 8, "title": "High water"}
        )
        made.raise_for_status()
        link = made.json()["url"]
        with pytest.raises(NotRecorded, match="still being made"):
            download(link, str(tmp_path / "early.%(ext)s"))
        deadline = time.monotonic() + 120
        while http.get(f"/api/v1/clips/{made.json()['id']}").json()["state"] != "ready":
            assert time.monotonic() < deadline, "the clip was never made"
            time.sleep(0.5)

    for fmt in ("mp3", "m4a"):
        result = download(link, str(tmp_path / "%(host)s - %(title)s.%(ext)s"), format=fmt)
        assert result.path.name == f"hana - High water.{fmt}"
        assert result.duration == pytest.approx(6.0, abs=0.03)
        audio, rate = decode(result.path)
        assert len(audio) / rate == pytest.approx(6.0, abs=0.03)
    with pytest.raises(UnsupportedURL, match="MP3 or M4A"):
        download(link, str(tmp_path / "x.%(ext)s"), format="wav")
