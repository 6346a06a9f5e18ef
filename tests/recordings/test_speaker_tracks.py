"""Speaker tracks of a recording: each speaker's own voice, one Ogg Opus file each on
the recording's timeline, for the host alone, gone with the recording's media."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
import numpy as np
import pytest

from airspace.clock import SettableClock
from airspace.media.peer import SpeakerPeer, recording
from airspace.media.speaker_tracks import part_bytes
from airspace.recordings.services import advance_all
from airspace.recordings.speaker_tracks import joined_packets
from tests.audio import band_share, decode
from tests.conftest import LiveServer
from tests.live.test_speakers import connect_microphone
from tests.media.test_ogg_opus import decoded


def test_parts_are_joined_on_the_recordings_timeline() -> None:
    silence = b"\x00"
    parts = [
        (960 * 5, part_bytes([b"c", b"d", b"e"])),  # a node that took the room over
        (960 * 1, part_bytes([b"a", b"b"])),
        (960 * 7, part_bytes([b"x", b"f"])),  # overlapping: the earlier frame stays
    ]
    assert joined_packets(parts, silence) == [
        silence,
        b"a",
        b"b",
        silence,
        silence,
        b"c",
        b"d",
        b"e",
        b"f",
    ]


def burst(start: float, seconds: float, frequency: float) -> np.ndarray:
    t = np.arange(round(seconds * 48_000)) / 48_000
    pcm = np.zeros(round((start + seconds) * 48_000), np.float32)
    pcm[round(start * 48_000) :] = 0.3 * np.sin(2 * np.pi * frequency * t)
    return pcm


def onset(pcm: np.ndarray) -> float:
    return float(np.flatnonzero(np.abs(pcm) > 0.05)[0]) / 48_000


def wait_available(http: httpx.Client, space_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, Any] = http.get(f"/api/v1/spaces/{space_id}/recording").json()
        if body["state"] == "available":
            return body
        time.sleep(0.2)
    raise AssertionError(f"the recording was not published: {body}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_host_downloads_each_speakers_own_voice(
    live_server: LiveServer, clock: SettableClock
) -> None:
    headers = {name: live_server.register(name) for name in ("alice", "bob", "carol")}
    space_id = live_server.create_space(headers["alice"], record=True, title="Two voices")
    # Alice at 520 Hz, then Bob at 1310 Hz, talking over her for a second.
    sources = {"alice": burst(0.5, 2.5, 520), "bob": burst(2.0, 2.5, 1310)}

    async def live_part() -> None:
        clients = {
            name: httpx.AsyncClient(base_url=live_server.base, headers=h, timeout=20)
            for name, h in headers.items()
        }
        host = clients["alice"]
        await host.post(f"/api/v1/spaces/{space_id}/start")
        for client in clients.values():
            await client.post(f"/api/v1/spaces/{space_id}/room/join")
        await host.post(f"/api/v1/spaces/{space_id}/room/speakers", json={"username": "bob"})
        peers = {name: SpeakerPeer(recording(pcm)) for name, pcm in sources.items()}
        await asyncio.gather(
            *(connect_microphone(clients[n], space_id, peer) for n, peer in peers.items())
        )
        await asyncio.sleep(5.5)
        for peer in peers.values():
            await peer.close()
        await host.post(f"/api/v1/spaces/{space_id}/end")
        for client in clients.values():
            await client.aclose()

    asyncio.run(live_part())

    storage = live_server.services.storage
    with httpx.Client(follow_redirects=True, base_url=live_server.base, timeout=20) as http:
        duration = wait_available(http, space_id)["duration_seconds"]
        api = f"/api/v1/spaces/{space_id}/recording/tracks"
        assert http.get(api, headers=headers["bob"]).status_code == 403
        assert http.get(api).status_code == 403
        listed = http.get(api, headers=headers["alice"])
        assert listed.status_code == 200, listed.text
        tracks = {t["username"]: t for t in listed.json()["tracks"]}
        assert set(tracks) == {"alice", "bob"}
        assert storage.list(f"spaces/{space_id}/tracks/parts/") == []  # joined, then gone

        program, _ = decode(http.get(f"/i/spaces/{space_id}/recording.ts").content, "mpegts")
        voices = {}
        for name, track in tracks.items():
            assert http.get(track["url"], headers=headers["bob"]).status_code == 403
            got = http.get(track["url"], headers=headers["alice"])
            assert got.status_code == 200
            assert got.headers["content-type"] == "audio/ogg"
            assert got.headers["content-disposition"].startswith("attachment")
            pcm, _ = decoded(got.content)
            voices[name] = pcm
            assert len(pcm) / 48_000 == pytest.approx(track["seconds"], abs=0.001)
            assert track["seconds"] == pytest.approx(duration, abs=0.1)
        alice, bob = voices["alice"], voices["bob"]
        # Each voice alone on its track, the overlap included.
        assert band_share(alice[: round(3.2 * 48_000)], 520) > 0.9
        assert np.abs(alice[round(3.5 * 48_000) :]).max() < 0.01
        assert band_share(bob, 1310) > 0.9
        assert np.abs(bob[: round(onset(bob) * 48_000) - 2400]).max() < 0.01
        # On the program's timeline, to the frame.
        assert onset(alice) == pytest.approx(onset(program), abs=0.03)
        assert onset(bob) - onset(alice) == pytest.approx(1.5, abs=0.1)

        # A listener's grant to the replay does not open the tracks.
        replay = http.get(f"/i/spaces/{space_id}/replay.m3u8", follow_redirects=False)
        granted = replay.headers["location"].replace("replay.m3u8", "tracks/alice.ogg")
        assert http.get(granted).status_code == 403

        assert (
            http.delete(
                f"/api/v1/spaces/{space_id}/recording", headers=headers["alice"]
            ).status_code
            == 204
        )
        clock.advance(timedelta(days=200))
        advance_all(live_server.services)
        assert storage.list(f"spaces/{space_id}/tracks/") == []
        assert http.get(api, headers=headers["alice"]).status_code == 410
