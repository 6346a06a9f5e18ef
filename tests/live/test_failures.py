"""When things break during a live Space: a speaker's connection dies, storage fails."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from airspace.config import Settings
from airspace.live.recorder import live_prefix
from airspace.media.peer import SpeakerPeer, tone
from airspace.recordings.models import Recording
from airspace.recordings.services import segments_of
from tests.audio import band_share
from tests.conftest import LiveServer, make_settings
from tests.live.test_speakers import EventLog, connect_microphone, program_audio


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, speaker_timeout_seconds=2)


@pytest.mark.slow  # a live Space or a growing playlist, seconds of real time
def test_a_dropped_speaker_is_removed_while_the_mix_goes_on(live_server: LiveServer) -> None:
    host = live_server.register("host")
    guest = live_server.register("guest")
    space_id = live_server.create_space(host, record=True)
    ws_url = live_server.base.replace("http", "ws") + f"/api/v1/spaces/{space_id}/room/events"

    async def scenario() -> None:
        base = live_server.base
        async with (
            httpx.AsyncClient(
                follow_redirects=True, base_url=base, headers=host, timeout=20
            ) as as_host,
            httpx.AsyncClient(
                follow_redirects=True, base_url=base, headers=guest, timeout=20
            ) as as_guest,
        ):
            await as_host.post(f"/api/v1/spaces/{space_id}/start")
            async with EventLog(ws_url) as log:
                for who in (as_host, as_guest):
                    await who.post(f"/api/v1/spaces/{space_id}/room/join")
                await as_host.post(
                    f"/api/v1/spaces/{space_id}/room/speakers", json={"username": "guest"}
                )
                host_peer, guest_peer = SpeakerPeer(tone(520)), SpeakerPeer(tone(1310))
                await connect_microphone(as_host, space_id, host_peer)
                await connect_microphone(as_guest, space_id, guest_peer)
                await asyncio.sleep(2)
                guest_peer.track.stop()  # the guest's audio stops arriving, unannounced
                left = await log.wait_for("left", timeout=10)
                assert left["member"]["username"] == "guest"
                assert left["reason"] == "connection lost"
                await asyncio.sleep(2.5)
                program = await program_audio(as_host, space_id, last=1)
                assert band_share(program, 520) > 0.5  # the host is still on air
                assert band_share(program, 1310) < 0.01
                state = (await as_host.get(f"/api/v1/spaces/{space_id}/room")).json()
                assert [m["username"] for m in state["members"]] == ["host"]
                await host_peer.close()
                await guest_peer.close()
                await as_host.post(f"/api/v1/spaces/{space_id}/end")

    asyncio.run(scenario())
    with live_server.services.sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        segments = segments_of(session, recording.id)
    for before, after in itertools.pairwise(segments):
        assert after.first_sample == before.first_sample + before.samples


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_storage_refusing_segments_for_a_while_loses_nothing(
    live_server: LiveServer, tmp_path: Path
) -> None:
    host = live_server.register("host")
    space_id = live_server.create_space(host, record=True)
    live_dir = tmp_path / "media" / live_prefix(space_id)
    with httpx.Client(
        follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
    ) as http:
        http.post(f"/api/v1/spaces/{space_id}/start").raise_for_status()
        time.sleep(4.5)
        # Storage fails under the room: the segments' directory turns into a file.
        saved = live_dir.with_name("saved")
        live_dir.rename(saved)
        live_dir.write_bytes(b"")
        time.sleep(5)
        assert http.get(f"/api/v1/spaces/{space_id}").json()["state"] == "live"  # it goes on
        live_dir.unlink()
        saved.rename(live_dir)
        time.sleep(3)  # storage takes segments again: those that waited first
        http.post(f"/api/v1/spaces/{space_id}/end").raise_for_status()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            recording = http.get(f"/api/v1/spaces/{space_id}/recording").json()
            if recording["state"] == "available":
                break
            time.sleep(0.2)
        assert recording["state"] == "available"
    with live_server.services.sessions() as session:
        stored = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        segments = segments_of(session, stored.id)
    assert [s.sequence for s in segments] == list(range(len(segments)))
    for before, after in itertools.pairwise(segments):
        assert after.first_sample == before.first_sample + before.samples
    # Nothing of the 12.5 s is missing: the failure's 5 s waited in memory.
    assert recording["duration_seconds"] == pytest.approx(
        (segments[-1].first_sample + segments[-1].samples) / 48_000
    )
    assert float(recording["duration_seconds"]) > 11.5
