"""Speakers over a lossy, jittery network (a UDP relay that impairs what passes, as
bench/network.py uses): lost packets are recovered or concealed rather than heard as
gaps, and a speaker whose network drops out for 3 s is back in the program at once
when it returns, with the program never missing a tick."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
from bench.udp_impairment import ImpairedRelay, Impairment, candidate_host

from airspace.media.aiortc_engine import FRAME_SECONDS, AiortcMediaEngine
from airspace.media.peer import SpeakerPeer, tone
from tests.media.test_aiortc_engine import Collected


async def join_through(
    engine: AiortcMediaEngine, speaker: str, peer: SpeakerPeer, path: Impairment
) -> ImpairedRelay:
    relay = ImpairedRelay(path, Impairment(path.delay_ms, path.jitter_ms, path.loss))
    offer = await peer.offer()
    await relay.start(candidate_host(offer))
    answer = await engine.add_speaker("room", speaker, relay.offer_through(offer))
    await peer.accept(relay.answer_through(answer))
    deadline = time.monotonic() + 15
    while peer.pc.connectionState != "connected":
        assert time.monotonic() < deadline, "the speaker did not connect through the relay"
        await asyncio.sleep(0.05)
    return relay


def gaps(frames: list[np.ndarray]) -> float:
    """The share of 20 ms program frames in which a steady tone is missing (under a
    tenth of its level: a frame made up from FEC or concealment is quieter, not gone)."""
    levels = np.array([np.sqrt(np.mean(f**2)) for f in frames])
    return float(np.mean(levels < 0.1 * np.median(levels)))


def tone_gaps(repair: bool) -> tuple[float, float]:
    """(program frames missing the tone, packets the path lost) at 10 % random loss."""

    async def scenario() -> tuple[float, float]:
        engine = AiortcMediaEngine(speaker_timeout=30, repair_losses=repair)
        room = Collected()
        await engine.open_room("room", room)
        peer = SpeakerPeer(tone(440), protect=repair)
        path = Impairment(delay_ms=25, jitter_ms=10, loss=0.10)
        relay = await join_through(engine, "alice", peer, path)
        await asyncio.sleep(1.0)  # the voice is flowing and FEC is on
        relay.impaired = True
        start = len(room.frames)
        await asyncio.sleep(6.0)
        heard = room.frames[start + 10 : len(room.frames) - 5]
        await peer.close()
        await engine.close_room("room")
        relay.close()
        lost = relay.dropped["up"] / (relay.dropped["up"] + relay.passed["up"])
        return gaps(heard), lost

    return asyncio.run(scenario())


@pytest.mark.slow
def test_lost_packets_are_recovered_or_concealed_not_heard_as_gaps() -> None:
    repaired, lost = tone_gaps(repair=True)
    assert lost > 0.05  # the path really did lose packets
    unrepaired, _ = tone_gaps(repair=False)
    assert unrepaired > 0.05  # without repair, each loss is a gap in the program
    assert repaired < 0.02


@pytest.mark.slow
def test_a_speaker_whose_network_drops_out_for_3_seconds_is_back_at_once() -> None:
    async def scenario() -> None:
        engine = AiortcMediaEngine(speaker_timeout=10)
        room = Collected()
        await engine.open_room("room", room)
        opened = time.monotonic()
        peer = SpeakerPeer(tone(440))
        relay = await join_through(engine, "alice", peer, Impairment(delay_ms=25, jitter_ms=5))
        relay.impaired = True
        await asyncio.sleep(2.0)
        relay.cut = True
        cut_at = len(room.frames)
        await asyncio.sleep(3.0)
        relay.cut = False
        back_from = len(room.frames)
        await asyncio.sleep(5.0)
        frames = room.frames
        assert engine.connected("room") == {"alice"}  # still in, never dropped
        during = frames[cut_at + 10 : back_from]
        assert max(float(np.abs(f).max()) for f in during) < 0.01  # nothing while it was gone
        after = [np.sqrt(np.mean(f**2)) for f in frames[back_from:]]
        back = next(i for i, level in enumerate(after) if level > 0.1) * FRAME_SECONDS
        assert back < 1.0, f"back {back:.2f} s after the network returned"
        assert gaps(frames[back_from + int(back / FRAME_SECONDS) + 10 :]) < 0.02
        # The program (what is recorded) went on throughout: a frame every 20 ms.
        elapsed = time.monotonic() - opened
        assert abs(len(frames) - elapsed / FRAME_SECONDS) < 10
        await peer.close()
        await engine.close_room("room")
        relay.close()

    asyncio.run(scenario())
