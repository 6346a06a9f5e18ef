"""A speaker whose network drops out for 3 s mid-sentence: still on stage with the same
role, heard again within 5 s of the network coming back, and the recording continuous
throughout (one timeline, as long as the Space was live)."""

from __future__ import annotations

import asyncio
import itertools
import time

import httpx
import numpy as np
import pytest
from bench.udp_impairment import ImpairedRelay, Impairment, candidate_host
from sqlalchemy import select

from airspace.media.peer import SpeakerPeer, tone
from airspace.recordings.models import Recording
from airspace.recordings.services import segments_of
from tests.audio import band_share, decode
from tests.conftest import LiveServer
from tests.live.test_speakers import offer_microphone

CUT_SECONDS = 3.0


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_3_second_network_cut_mid_sentence(live_server: LiveServer) -> None:
    host = live_server.register("host")
    space_id = live_server.create_space(host, record=True)

    async def live() -> tuple[float, float, float, dict[str, str]]:
        async with httpx.AsyncClient(base_url=live_server.base, headers=host, timeout=20) as http:
            (await http.post(f"/api/v1/spaces/{space_id}/start")).raise_for_status()
            went_live = time.monotonic()
            await http.post(f"/api/v1/spaces/{space_id}/room/join")
            peer = SpeakerPeer(tone(440))
            relay = ImpairedRelay(Impairment(jitter_ms=5), Impairment(jitter_ms=5))
            offer = await peer.offer()
            await relay.start(candidate_host(offer))
            answer = await offer_microphone(http, space_id, relay.offer_through(offer))
            await peer.accept(relay.answer_through(answer))
            relay.impaired = True
            await asyncio.sleep(3.0)
            relay.cut = True
            cut_at = time.monotonic() - went_live
            await asyncio.sleep(CUT_SECONDS)
            relay.cut = False
            back_at = time.monotonic() - went_live
            await asyncio.sleep(7.0)
            state = (await http.get(f"/api/v1/spaces/{space_id}/room")).json()
            roles = {m["username"]: m["role"] for m in state["members"]}
            await peer.close()
            (await http.post(f"/api/v1/spaces/{space_id}/end")).raise_for_status()
            relay.close()
            return cut_at, back_at, time.monotonic() - went_live, roles

    cut_at, back_at, live_for, roles = asyncio.run(live())
    assert roles["host"] == "host"  # still on stage, in the same seat
    with live_server.services.sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        segments = segments_of(session, recording.id)
    for before, after in itertools.pairwise(segments):
        assert after.first_sample == before.first_sample + before.samples
    audio = np.concatenate(
        [decode(live_server.services.storage.get(s.key), format="mpegts")[0] for s in segments]
    )
    assert len(audio) / 48_000 == pytest.approx(live_for, abs=1.0)
    seconds = [audio[i : i + 4800] for i in range(0, len(audio) - 4800, 4800)]  # 100 ms each
    heard = [band_share(piece, 440) > 0.5 for piece in seconds]
    # Silent while the network was gone (the room went on without her) ...
    gone = heard[int(cut_at * 10) + 5 : int(back_at * 10)]
    assert gone
    assert not any(gone)
    # ... and heard again within 5 s of it coming back, then throughout.
    back = next(i for i in range(int(back_at * 10), len(heard)) if heard[i]) / 10 - back_at
    assert back <= 5.0, f"heard again {back:.1f} s after the network came back"
    resumed = heard[int((back_at + back) * 10) + 2 : int((live_for - 1.5) * 10)]
    assert np.mean(resumed) > 0.95
