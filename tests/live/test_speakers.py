"""Real WebRTC speakers (aiortc) in a live room of a real server; listeners read the HLS
program. Audio is checked by content: each speaker sends a tone of its own pitch."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any
from urllib.parse import urljoin

import httpx
import numpy as np
import pytest
import websockets
from sqlalchemy import select

from airspace.media.peer import SpeakerPeer, tone
from airspace.recordings.models import Recording, RecordingState, SpeakerTurn
from airspace.recordings.services import segments_of
from airspace.spaces.models import Space, SpaceState
from tests.audio import band_share, decode
from tests.conftest import LiveServer

HOST_PITCH = 520.0
GUEST_PITCH = 1310.0


class EventLog:
    """Every event of a room's WebSocket, collected in the background."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.events: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> EventLog:
        self.socket = await websockets.connect(self.url)
        self.events.append(json.loads(await self.socket.recv()))
        self.task = asyncio.create_task(self._collect())
        return self

    async def _collect(self) -> None:
        async for message in self.socket:
            self.events.append(json.loads(message))

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        await self.socket.close()

    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    async def wait_for(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event["type"] == kind:
                    return event
            await asyncio.sleep(0.05)
        raise AssertionError(f"no {kind!r} event in {self.types()}")


BUSY_RETRIES = 20
"""Offers made while a test server says it is too busy for another microphone."""


async def connect_microphone(
    http: httpx.AsyncClient, space_id: str, peer: SpeakerPeer, offer: str | None = None
) -> None:
    """Offer ``peer``'s microphone to the room. A server too busy for another microphone
    says so (503, try again later) and the offer is made again a second later: these
    tests run the room in the test process, beside the test's own work (downloads,
    jobs), so a test server can fall behind for a moment where a real one would not.
    Refusing is tested on its own (tests/media/test_aiortc_engine.py)."""
    offer = offer or await peer.offer()
    await peer.accept(await offer_microphone(http, space_id, offer))


async def offer_microphone(http: httpx.AsyncClient, space_id: str, offer: str) -> str:
    """The room's answer to a microphone's ``offer``, offered again while the server says
    it is too busy (see ``connect_microphone``)."""
    for _ in range(BUSY_RETRIES):
        answer = await http.post(
            f"/api/v1/spaces/{space_id}/room/microphone", json={"type": "offer", "sdp": offer}
        )
        if answer.status_code != 503:
            break
        await asyncio.sleep(1.0)
    assert answer.status_code == 200, answer.text
    sdp: str = answer.json()["sdp"]
    return sdp


async def program_audio(http: httpx.AsyncClient, space_id: str, last: int = 2) -> np.ndarray:
    """The last ``last`` segments of the live program, as a listener fetches them."""
    playlist = await http.get(f"/i/spaces/{space_id}/live.m3u8")
    assert playlist.status_code == 200
    assert "#EXT-X-PROGRAM-DATE-TIME" in playlist.text
    uris = [line for line in playlist.text.splitlines() if line and not line.startswith("#")]
    assert uris, playlist.text
    blocks = []
    for uri in uris[-last:]:
        segment = await http.get(urljoin(str(playlist.url), uri))
        assert segment.status_code == 200
        assert segment.headers["content-type"] == "video/mp2t"
        blocks.append(decode(segment.content, format="mpegts")[0])
    return np.concatenate(blocks)


def test_speakers_hear_each_other_and_listeners_hear_both(live_server: LiveServer) -> None:
    speakers_hear_each_other(live_server)


def speakers_hear_each_other(live_server: LiveServer) -> None:
    """Two speakers with tones of their own, a listener on HLS, events on the socket."""
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
            httpx.AsyncClient(follow_redirects=True, base_url=base, timeout=20) as listener,
        ):
            started = await as_host.post(f"/api/v1/spaces/{space_id}/start")
            assert started.status_code == 200, started.text
            assert started.json()["recording_indicator"] is True
            async with EventLog(ws_url) as log:
                assert log.events[0]["type"] == "state"
                assert log.events[0]["recording"] is True
                await as_host.post(f"/api/v1/spaces/{space_id}/room/join")
                joined = await as_guest.post(f"/api/v1/spaces/{space_id}/room/join")
                assert joined.json()["recording"] is True
                denied = await as_guest.post(
                    f"/api/v1/spaces/{space_id}/room/microphone",
                    json={"type": "offer", "sdp": "v=0"},
                )
                assert denied.status_code == 403
                await as_guest.post(f"/api/v1/spaces/{space_id}/room/requests")
                approved = await as_host.post(
                    f"/api/v1/spaces/{space_id}/room/speakers", json={"username": "guest"}
                )
                assert approved.status_code == 200, approved.text

                host_peer = SpeakerPeer(tone(HOST_PITCH))
                guest_peer = SpeakerPeer(tone(GUEST_PITCH))
                await connect_microphone(as_host, space_id, host_peer)
                await connect_microphone(as_guest, space_id, guest_peer)
                await log.wait_for("speaking_started")
                await asyncio.sleep(5)

                program = await program_audio(listener, space_id)
                assert band_share(program, HOST_PITCH) > 0.2
                assert band_share(program, GUEST_PITCH) > 0.2
                host_hears = host_peer.heard.audio()[-48_000:]
                guest_hears = guest_peer.heard.audio()[-48_000:]
                assert band_share(host_hears, GUEST_PITCH) > 0.5
                assert band_share(host_hears, HOST_PITCH) < 0.01
                assert band_share(guest_hears, HOST_PITCH) > 0.5
                assert band_share(guest_hears, GUEST_PITCH) < 0.01

                state = (await listener.get(f"/api/v1/spaces/{space_id}/room")).json()
                speaking = {m["username"]: m["speaking"] for m in state["members"]}
                assert speaking == {"host": True, "guest": True}
                assert state["listener_count"] >= 1

                await host_peer.close()
                await guest_peer.close()
                ended = await as_host.post(f"/api/v1/spaces/{space_id}/end")
                assert ended.status_code == 200, ended.text
                await log.wait_for("ended")
            types = log.types()
            for kind in ("joined", "asked_to_speak", "approved", "speaking_started", "ended"):
                assert kind in types
            assert all(e["recording"] is True for e in log.events if "recording" in e)

    asyncio.run(scenario())

    with live_server.services.sessions() as session:
        space = session.get_one(Space, space_id)
        assert space.state is SpaceState.ENDED
        assert space.participant_count == 3  # host, guest and the anonymous listener
        assert space.peak_listeners >= 1
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        assert recording.state in (RecordingState.PROCESSING, RecordingState.AVAILABLE)
        segments = segments_of(session, recording.id)
        turns = session.scalars(
            select(SpeakerTurn).where(SpeakerTurn.recording_id == recording.id)
        ).all()
    assert [s.sequence for s in segments] == list(range(len(segments)))
    for before, after in itertools.pairwise(segments):
        assert after.first_sample == before.first_sample + before.samples
    assert {t.speaker_name for t in turns} == {"host", "guest"}
    recorded = sum(s.samples for s in segments) / 48_000
    assert all(0 <= t.start_seconds < t.end_seconds <= recorded + 0.1 for t in turns)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_recording_matches_the_wall_clock(live_server: LiveServer) -> None:
    """Real time, 21 s of it: the room's clock, its recording and the wall clock agree.
    (A minute of a room's timeline, without waiting for it, is in
    tests/media/test_aiortc_engine.py on a stepped clock.)"""
    host = live_server.register("host")
    space_id = live_server.create_space(host, record=True)
    with httpx.Client(
        follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
    ) as http:
        http.post(f"/api/v1/spaces/{space_id}/start").raise_for_status()
        went_live = time.monotonic()
        time.sleep(21)
        ending = time.monotonic()
        http.post(f"/api/v1/spaces/{space_id}/end").raise_for_status()
        wall_clock = ending - went_live
    with live_server.services.sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        segments = segments_of(session, recording.id)
    recorded = sum(s.samples for s in segments) / 48_000
    assert recorded == pytest.approx(wall_clock, abs=0.5)
    assert len(segments) == 11
    for before, after in itertools.pairwise(segments):
        assert after.first_sample == before.first_sample + before.samples
        assert after.sequence == before.sequence + 1
    assert all(s.samples / 48_000 == pytest.approx(2.0, abs=0.03) for s in segments[:-1])
    audio = np.concatenate(
        [decode(live_server.services.storage.get(s.key), format="mpegts")[0] for s in segments]
    )
    assert len(audio) / 48_000 == pytest.approx(recorded, abs=0.05)
