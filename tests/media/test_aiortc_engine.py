"""The in-process media engine with real aiortc speakers: muting, reconnecting, and
what it does with an offer it cannot answer."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from airspace.media.activity import ActivityChange
from airspace.media.aiortc_engine import AiortcMediaEngine
from airspace.media.engine import InvalidOffer
from airspace.media.peer import SpeakerPeer, tone
from tests.audio import band_share


class Collected:
    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.changes: list[ActivityChange] = []
        self.lost: list[str] = []
        self.errors: list[BaseException] = []

    def program(self, frame: np.ndarray) -> None:
        self.frames.append(frame)

    def activity(self, change: ActivityChange) -> None:
        self.changes.append(change)

    def speaker_lost(self, speaker: str) -> None:
        self.lost.append(speaker)

    def failed(self, error: BaseException) -> None:
        self.errors.append(error)

    def last_second(self) -> np.ndarray:
        return np.concatenate(self.frames[-50:])


async def connect(engine: AiortcMediaEngine, speaker: str, peer: SpeakerPeer) -> None:
    await peer.accept(await engine.add_speaker("room", speaker, await peer.offer()))


def test_muting_and_reconnecting_speakers() -> None:
    async def scenario() -> None:
        engine = AiortcMediaEngine(speaker_timeout=30)
        room = Collected()
        await engine.open_room("room", room)
        alice, bob = SpeakerPeer(tone(520)), SpeakerPeer(tone(1310))
        await connect(engine, "alice", alice)
        await connect(engine, "bob", bob)
        await asyncio.sleep(1.5)
        assert band_share(room.last_second(), 520) > 0.2

        await engine.set_muted("room", "alice", True)
        await asyncio.sleep(1.2)
        assert band_share(room.last_second(), 520) < 0.01
        assert band_share(bob.heard.audio()[-48_000:], 520) < 0.01
        assert any(c.speaker == "alice" and not c.speaking for c in room.changes)

        # Alice reconnects (a new page, a new network): the old connection is replaced.
        await engine.set_muted("room", "alice", False)
        again = SpeakerPeer(tone(520))
        await connect(engine, "alice", again)
        await asyncio.sleep(1.5)
        assert engine.connected("room") == {"alice", "bob"}
        assert band_share(room.last_second(), 520) > 0.2
        assert alice.pc.connectionState in ("closed", "failed", "connected")

        with pytest.raises(InvalidOffer):
            await engine.add_speaker("room", "carol", "v=0\r\nm=audio 9 RTP/AVP 0\r\n")
        assert engine.connected("room") == {"alice", "bob"}
        assert room.errors == []
        for peer in (alice, bob, again):
            await peer.close()
        await engine.close()
        frames = len(room.frames)
        await asyncio.sleep(0.2)
        assert len(room.frames) == frames  # no program after close

    asyncio.run(scenario())
