"""AIRSPACE_MEDIA_ADDRESS: every host candidate of an answer gets a twin on the address
speakers reach the node at, and speakers still connect."""

from __future__ import annotations

import asyncio

import pytest

from airspace.config import Settings
from airspace.errors import ConfigError
from airspace.media.aiortc_engine import AiortcMediaEngine
from airspace.media.candidates import advertise
from airspace.media.peer import SpeakerPeer, tone
from tests.audio import band_share
from tests.media.test_aiortc_engine import Collected

PUBLIC = "203.0.113.7"


def candidates(sdp: str) -> list[list[str]]:
    return [
        line.removeprefix("a=candidate:").split()
        for line in sdp.split("\r\n")
        if line.startswith("a=candidate:")
    ]


def test_an_answer_names_the_media_address_beside_each_host_candidate() -> None:
    async def scenario() -> None:
        engine = AiortcMediaEngine(speaker_timeout=30, media_address=PUBLIC)
        room = Collected()
        await engine.open_room("room", room)
        peer = SpeakerPeer(tone(700))
        try:
            answer = await engine.add_speaker("room", "1", await peer.offer())
            found = candidates(answer)
            hosts = [c for c in found if c[7] == "host" and c[4] != PUBLIC]
            twins = [c for c in found if c[4] == PUBLIC]
            assert hosts
            assert sorted((c[1], c[2], c[5]) for c in twins) == sorted(
                (c[1], c[2], c[5]) for c in hosts
            )
            # The node's own candidates stay: a speaker on its network still connects.
            await peer.accept(answer)
            for _ in range(100):
                if len(room.frames) > 100 and band_share(room.last_second(), 700) > 0.5:
                    break
                await asyncio.sleep(0.05)
            assert band_share(room.last_second(), 700) > 0.5
        finally:
            await peer.close()
            await engine.close()

    asyncio.run(scenario())


def test_nothing_changes_without_a_media_address_or_twice() -> None:
    sdp = "v=0\r\na=candidate:1 1 udp 2130706431 10.0.0.5 50000 typ host\r\n"
    assert advertise(sdp, None) == sdp
    once = advertise(sdp, PUBLIC)
    assert once.count(PUBLIC) == 1
    assert advertise(once, PUBLIC).count(PUBLIC) == 1


def test_the_setting_must_be_an_ip_address() -> None:
    assert Settings.from_env({"AIRSPACE_MEDIA_ADDRESS": "203.0.113.7"}).media_address == PUBLIC
    with pytest.raises(ConfigError, match="AIRSPACE_MEDIA_ADDRESS"):
        Settings.from_env({"AIRSPACE_MEDIA_ADDRESS": "spaces.example.org"})
