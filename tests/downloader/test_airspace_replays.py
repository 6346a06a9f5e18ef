"""The downloader on a real Airspace replay: a Space recorded live, ended, trimmed by
its host, then downloaded by its page link as MP3 and M4A."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from airspace.downloader import download
from airspace.downloader.errors import SpaceIsLive
from airspace.media.peer import SpeakerPeer, tone
from tests.audio import band_share, decode
from tests.conftest import LiveServer
from tests.live.test_speakers import connect_microphone


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_space_link_downloads_the_trimmed_replay(live_server: LiveServer, tmp_path: Path) -> None:
    host = live_server.register("host")
    space_id = live_server.create_space(host, record=True, title="Downloaded live")
    link = f"{live_server.base}/i/spaces/{space_id}"

    async def live_part() -> None:
        async with httpx.AsyncClient(
            follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
        ) as http:
            await http.post(f"/api/v1/spaces/{space_id}/start")
            await http.post(f"/api/v1/spaces/{space_id}/room/join")
            peer = SpeakerPeer(tone(880))
            await connect_microphone(http, space_id, peer)
            with pytest.raises(SpaceIsLive):
                await asyncio.to_thread(download, link, str(tmp_path / "x.%(ext)s"))
            await asyncio.sleep(4.5)
            await peer.close()
            await http.post(f"/api/v1/spaces/{space_id}/end")

    asyncio.run(live_part())
    with httpx.Client(
        follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
    ) as http:
        deadline = time.monotonic() + 10
        while http.get(f"/api/v1/spaces/{space_id}/recording").json()["state"] != "available":
            assert time.monotonic() < deadline
            time.sleep(0.1)
        recording = http.patch(
            f"/api/v1/spaces/{space_id}/recording", json={"start_offset_seconds": 1.5}
        ).json()
    expected = recording["playable_seconds"]
    for fmt in ("mp3", "m4a"):
        result = download(link, str(tmp_path / "%(title)s.%(ext)s"), format=fmt)
        assert result.path.name == f"Downloaded live.{fmt}"
        assert result.complete
        assert result.duration == pytest.approx(expected, abs=1024 / 48_000)
        audio, rate = decode(result.path)
        assert len(audio) / rate == pytest.approx(expected, abs=0.05)
        assert band_share(audio[rate : 2 * rate], 880) > 0.5
