"""Replays of a real live Space: the VOD playlist, the master file, the waveform, the
speaker timeline, the start offset moving all of them, play counts and the window."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from urllib.parse import urljoin

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from airspace.clock import SettableClock
from airspace.media.peer import SpeakerPeer, recording
from tests.audio import decode
from tests.conftest import LiveServer, register
from tests.live.test_speakers import connect_microphone

TONE_SECONDS = 2.0


def speech_like(seconds: float) -> np.ndarray:
    """Silence, then a 2-second tone, then silence: a waveform with one loud stretch."""
    pcm = np.zeros(round(seconds * 48_000), dtype=np.float32)
    t = np.arange(round(TONE_SECONDS * 48_000)) / 48_000
    start = round(1.5 * 48_000)
    pcm[start : start + len(t)] = 0.5 * np.sin(2 * np.pi * 700 * t)
    return pcm


def wait_until_available(
    http: httpx.Client, space_id: str, seconds: float = 10
) -> dict[str, object]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body: dict[str, object] = http.get(f"/api/v1/spaces/{space_id}/recording").json()
        if body["state"] == "available":
            return body
        time.sleep(0.1)
    raise AssertionError(f"not available: {body}")


def playlist_segments(text: str) -> list[tuple[float, str]]:
    lines = text.splitlines()
    return [
        (float(line.split(":")[1].rstrip(",")), lines[i + 1])
        for i, line in enumerate(lines)
        if line.startswith("#EXTINF")
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_replay_and_its_start_time(live_server: LiveServer, clock: SettableClock) -> None:
    host = live_server.register("host")
    guest = live_server.register("guest")
    space_id = live_server.create_space(host, record=True)

    async def live_part() -> None:
        async with httpx.AsyncClient(
            follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
        ) as http:
            await http.post(f"/api/v1/spaces/{space_id}/start")
            await http.post(f"/api/v1/spaces/{space_id}/room/join")
            peer = SpeakerPeer(recording(speech_like(6.5)))
            await connect_microphone(http, space_id, peer)
            await asyncio.sleep(6.5)
            await peer.close()
            await http.post(f"/api/v1/spaces/{space_id}/end")

    asyncio.run(live_part())
    with (
        httpx.Client(
            follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
        ) as http,
        httpx.Client(
            follow_redirects=True, base_url=live_server.base, headers=guest, timeout=20
        ) as listener,
    ):
        body = wait_until_available(http, space_id)
        duration = float(body["duration_seconds"])  # type: ignore[arg-type]
        assert duration > 6

        playlist = listener.get(f"/i/spaces/{space_id}/replay.m3u8")
        assert playlist.status_code == 200
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in playlist.text
        assert playlist.text.rstrip().endswith("#EXT-X-ENDLIST")
        entries = playlist_segments(playlist.text)
        assert sum(d for d, _ in entries) == pytest.approx(duration, abs=0.001)
        decoded = [
            decode(listener.get(urljoin(str(playlist.url), uri)).content, format="mpegts")[0]
            for _, uri in entries
        ]
        program = np.concatenate(decoded)
        assert len(program) / 48_000 == pytest.approx(duration, abs=0.001)

        master = listener.get(f"/i/spaces/{space_id}/recording.ts")
        assert master.status_code == 200
        assert len(decode(master.content, format="mpegts")[0]) == len(program)

        waveform = listener.get(f"/api/v1/spaces/{space_id}/recording/waveform").json()
        peaks = waveform["peaks"]
        assert waveform["peaks_per_second"] == 10
        assert len(peaks) == pytest.approx(duration * 10, abs=1)
        loud = [i for i, p in enumerate(peaks) if p > 0.3]
        assert len(loud) == pytest.approx(TONE_SECONDS * 10, abs=3)

        speakers = listener.get(f"/api/v1/spaces/{space_id}/recording/speakers").json()
        [turn] = speakers["turns"]
        assert turn["username"] == "host"
        assert turn["start"] == pytest.approx(loud[0] / 10, abs=0.3)
        assert turn["end"] - turn["start"] == pytest.approx(TONE_SECONDS, abs=0.7)

        # The host moves the start into the middle of the tone; every output follows.
        offset = loud[0] / 10 + 1.0
        url = f"/api/v1/spaces/{space_id}/recording"
        assert listener.patch(url, json={"start_offset_seconds": offset}).status_code == 403
        assert http.patch(url, json={"start_offset_seconds": duration}).status_code == 422
        moved = http.patch(url, json={"start_offset_seconds": offset})
        assert moved.status_code == 200
        assert moved.json()["playable_seconds"] == pytest.approx(duration - offset)

        trimmed = listener.get(f"/i/spaces/{space_id}/replay.m3u8").text
        starts = np.cumsum([0.0] + [d for d, _ in entries])
        skipped = int(np.searchsorted(starts, offset, side="right")) - 1
        assert f"#EXT-X-START:TIME-OFFSET={offset - starts[skipped]:.6f}" in trimmed
        assert len(playlist_segments(trimmed)) == len(entries) - skipped

        master = decode(listener.get(f"/i/spaces/{space_id}/recording.ts").content, "mpegts")[0]
        assert len(master) / 48_000 == pytest.approx(duration - offset, abs=1024 / 48_000)
        moved_peaks = listener.get(f"/api/v1/spaces/{space_id}/recording/waveform").json()
        assert moved_peaks["peaks"] == peaks[int(offset * 10) :]
        # The host's slider draws the whole recording; listeners never see the cut part.
        whole = http.get(f"/api/v1/spaces/{space_id}/recording/waveform?whole=true").json()
        assert whole["peaks"] == peaks
        assert whole["start_offset_seconds"] == pytest.approx(offset)
        hidden = listener.get(f"/api/v1/spaces/{space_id}/recording/waveform?whole=true")
        assert hidden.status_code == 403
        moved_turns = listener.get(f"/api/v1/spaces/{space_id}/recording/speakers").json()
        assert moved_turns["turns"][0]["start"] == 0
        assert moved_turns["turns"][0]["end"] == pytest.approx(turn["end"] - offset, abs=0.01)
        card = listener.get(f"/api/v1/spaces/{space_id}").json()
        assert card["duration_seconds"] == pytest.approx(duration - offset)
        assert card["participant_count"] == 1

        # After the replay window, listeners get 410 Gone; the media stays for moderation.
        clock.advance(timedelta(days=30, seconds=1))
        assert listener.get(f"/i/spaces/{space_id}/replay.m3u8").status_code == 410
        assert listener.get(f"/i/spaces/{space_id}/recording.ts").status_code == 410
        # A media link handed out before ends with the window.
        assert listener.get(urljoin(str(playlist.url), entries[0][1])).status_code == 403
        assert listener.get(f"/api/v1/spaces/{space_id}/recording/waveform").status_code == 410
        assert live_server.services.storage.list(f"spaces/{space_id}/")


def test_plays_count_past_ten_seconds_once_per_session_per_half_hour(
    client: TestClient, clock: SettableClock
) -> None:
    host = register(client, "host")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Plays", "record": True}, headers=host
    ).json()["id"]
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host)
    client.post(f"/api/v1/spaces/{space_id}/end", headers=host)
    plays = f"/api/v1/spaces/{space_id}/recording/plays"

    def play(position: float) -> bool:
        response = client.post(plays, json={"position_seconds": position})
        assert response.status_code == 200, response.text
        counted: bool = response.json()["counted"]
        return counted

    assert play(4) is False
    assert play(11) is True
    assert play(40) is False  # the same listener session, within half an hour
    client.cookies.clear()
    assert play(12) is True  # another listener
    clock.advance(timedelta(minutes=31))
    assert play(12) is True
    assert client.get(f"/api/v1/spaces/{space_id}").json()["replay_count"] == 3
    assert client.post(plays, json={"position_seconds": -1}).status_code == 422


def test_a_ticketed_replay_is_for_ticket_holders_and_the_host(client: TestClient) -> None:
    host = register(client, "host")
    holder = register(client, "holder")
    stranger = register(client, "stranger")
    space_id = client.post(
        "/api/v1/spaces",
        json={"title": "Tickets", "record": True, "ticket_capacity": 3},
        headers=host,
    ).json()["id"]
    client.post(f"/api/v1/spaces/{space_id}/tickets", json={}, headers=holder)
    client.post(f"/api/v1/spaces/{space_id}/start", headers=host)
    client.post(f"/api/v1/spaces/{space_id}/end", headers=host)
    url = f"/i/spaces/{space_id}/replay.m3u8"
    assert client.get(url, headers=stranger).status_code == 403
    assert client.get(url).status_code == 403
    assert client.get(url, headers=holder).status_code == 200
    assert client.get(url, headers=host).status_code == 200


def wait_for_file(http: httpx.Client, url: str) -> bytes:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        response = http.get(url)
        if response.status_code == 200:
            return response.content
        assert response.status_code == 404, response.text
        time.sleep(0.2)
    raise AssertionError(f"{url} was never made")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_m4a_and_mp3_renditions_follow_the_start_time(live_server: LiveServer) -> None:
    host = live_server.register("host")
    space_id = live_server.create_space(host, record=True)

    async def live_part() -> None:
        async with httpx.AsyncClient(
            follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
        ) as http:
            await http.post(f"/api/v1/spaces/{space_id}/start")
            await http.post(f"/api/v1/spaces/{space_id}/room/join")
            peer = SpeakerPeer(recording(speech_like(5.0)))
            await connect_microphone(http, space_id, peer)
            await asyncio.sleep(5.0)
            await peer.close()
            await http.post(f"/api/v1/spaces/{space_id}/end")

    asyncio.run(live_part())
    frame = 1024 / 48_000
    with httpx.Client(
        follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
    ) as http:
        duration = float(wait_until_available(http, space_id)["duration_seconds"])  # type: ignore[arg-type]
        # The M4A is made after every Space: for browsers without HLS, and downloads.
        m4a = wait_for_file(http, f"/i/spaces/{space_id}/recording.m4a")
        assert len(decode(m4a)[0]) / 48_000 == pytest.approx(duration, abs=frame)
        assert http.get(f"/i/spaces/{space_id}/recording.mp3").status_code == 404

        offset = 2.345
        http.patch(
            f"/api/v1/spaces/{space_id}/recording", json={"start_offset_seconds": offset}
        ).raise_for_status()
        asked = http.post(f"/api/v1/spaces/{space_id}/recording/renditions", json={"format": "mp3"})
        assert asked.status_code == 202
        assert asked.json()["status"] == "queued"
        mp3 = wait_for_file(http, f"/i/spaces/{space_id}/recording.mp3")
        assert len(decode(mp3)[0]) / 48_000 == pytest.approx(duration - offset, abs=frame)
        ready = http.post(f"/api/v1/spaces/{space_id}/recording/renditions", json={"format": "mp3"})
        assert ready.status_code == 200
        assert ready.json()["status"] == "ready"
        trimmed = wait_for_file(http, f"/i/spaces/{space_id}/recording.m4a")
        assert len(decode(trimmed)[0]) / 48_000 == pytest.approx(duration - offset, abs=frame)
        bad = http.post(f"/api/v1/spaces/{space_id}/recording/renditions", json={"format": "ogg"})
        assert bad.status_code == 422
