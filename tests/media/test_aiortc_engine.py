"""The in-process media engine with real aiortc speakers: muting, reconnecting, and
what it does with an offer it cannot answer."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc import RTCPeerConnection

from airspace.clock import SettableClock
from airspace.media.activity import ActivityChange
from airspace.media.aiortc_engine import OWN_MIX_HANGOVER_TICKS, AiortcMediaEngine, MixingRoom
from airspace.media.engine import InvalidOffer, MediaOverloaded
from airspace.media.frame_clock import SteppedFrameClock
from airspace.media.link_quality import LinkQuality
from airspace.media.ogg_opus import ogg_opus
from airspace.media.peer import SpeakerPeer, recording, tone
from airspace.media.program_recorder import SegmentPlan, SegmentStored
from airspace.media.speaker_leg import ReturnTrack, SpeakerLeg
from airspace.media.speaker_tracks import TrackPart
from airspace.storage.local import LocalStorage
from tests.audio import band_share
from tests.media.test_ogg_opus import decoded


class Collected:
    def __init__(self) -> None:
        self.frames: list[np.ndarray] = []
        self.changes: list[ActivityChange] = []
        self.lost: list[str] = []
        self.errors: list[BaseException] = []
        self.links: list[tuple[str, LinkQuality]] = []
        self.track_parts: list[TrackPart] = []
        self.stored: list[SegmentStored] = []

    def program(self, frame: np.ndarray) -> None:
        self.frames.append(frame)

    def segment_stored(self, stored: SegmentStored) -> None:
        self.stored.append(stored)

    def activity(self, change: ActivityChange) -> None:
        self.changes.append(change)

    def link_quality(self, speaker: str, quality: LinkQuality) -> None:
        self.links.append((speaker, quality))

    def speaker_track(self, part: TrackPart) -> None:
        self.track_parts.append(part)

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
        muted_at = len(room.frames)
        while len(room.frames) < muted_at + 60:  # a second of program after the mute
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.2)  # and what Bob hears of it
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

        # Each connection is measured: on loopback nothing is lost and nothing is poor.
        measured = {speaker for speaker, _ in room.links}
        assert measured == {"alice", "bob"}
        alices = [quality for speaker, quality in room.links if speaker == "alice"]
        assert alices[-1].loss == 0
        assert alices[-1].jitter_ms < 20
        assert not alices[-1].poor

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


def test_the_return_track_sends_mono_opus_at_a_speech_bit_rate() -> None:
    async def scenario() -> None:
        track = ReturnTrack()
        source = tone(440.0)
        for number in range(100):  # 2 s
            track.put(source(number))
        packets = []
        for _ in track.queued():
            packets.append(await track.recv())
        assert len(packets) == 3  # the newest few: a slow reader never falls behind
        track = ReturnTrack()
        decoder = av.CodecContext.create("libopus", "r")
        decoded = []
        timestamps = []
        sizes = []
        for number in range(100):
            track.put(source(number))
            packet = await track.recv()
            timestamps.append(packet.pts)
            assert bytes(packet)[0] & 0x04 == 0  # the Opus TOC byte: mono
            sizes.append(len(bytes(packet)))
            for frame in decoder.decode(av.Packet(bytes(packet))):
                channels = len(frame.layout.channels)  # packed: samples interleaved
                decoded.append(frame.to_ndarray().reshape(-1, channels)[:, 0])
        assert timestamps == [n * 960 for n in range(100)]
        assert sum(sizes) / len(sizes) < 96_000 / 8 / 50 / 2  # well under stereo 96 kb/s
        pcm = np.concatenate(decoded).astype(np.float32)
        assert band_share(pcm[48_000:], 440.0) > 0.9

    asyncio.run(scenario())


def test_an_offer_must_prefer_opus_and_carry_one_microphone() -> None:
    async def scenario() -> None:
        engine = AiortcMediaEngine()
        await engine.open_room("room", Collected())
        peer = SpeakerPeer(tone(440))
        offer = await peer.offer()
        (audio,) = [line for line in offer.splitlines() if line.startswith("m=audio")]
        fields = audio.split()
        pcmu_first = " ".join([*fields[:3], "0", *[f for f in fields[3:] if f != "0"]])
        assert pcmu_first != audio
        with pytest.raises(InvalidOffer, match=r"must list Opus \(or RED\) first"):
            await engine.add_speaker("room", "alice", offer.replace(audio, pcmu_first))
        section = offer[offer.index("m=audio") :]
        with pytest.raises(InvalidOffer, match="more than one audio section"):
            await engine.add_speaker("room", "alice", offer + section)
        unsigned = "".join(
            line for line in offer.splitlines(keepends=True) if not line.startswith("a=fingerprint")
        )
        with pytest.raises(InvalidOffer, match="fingerprint"):
            await engine.add_speaker("room", "alice", unsigned)
        answer = await engine.add_speaker("room", "alice", offer)  # as the browser sent it
        assert "opus/48000" in answer
        assert engine.connected("room") == {"alice"}
        await peer.close()
        await engine.close()

    asyncio.run(scenario())


class Costly(Collected):
    """A room whose next ``costly_ticks`` programs each cost 30 ms of its 20 ms tick."""

    def __init__(self, clock: SteppedFrameClock) -> None:
        super().__init__()
        self.clock = clock
        self.costly_ticks = 0

    def program(self, frame: np.ndarray) -> None:
        super().program(frame)
        if self.costly_ticks > 0:
            self.costly_ticks -= 1
            self.clock.spend(0.03)


def test_a_room_falling_behind_refuses_new_microphones_until_it_catches_up() -> None:
    async def scenario() -> None:
        clock = SteppedFrameClock()
        engine = AiortcMediaEngine(speaker_timeout=30, frame_clock=clock)
        room = Costly(clock)
        await engine.open_room("room", room)
        await clock.advance(2.5)
        assert engine.lateness() == 0  # keeping up
        assert not engine.falling_behind()
        turned_away = SpeakerPeer(tone(520))
        offer = await turned_away.offer()
        room.costly_ticks = 30  # 0.9 s of work for 0.6 s of program
        await clock.advance(2.5)  # the window with the late ticks is over
        assert engine.lateness() > 0.06
        assert engine.falling_behind()
        with pytest.raises(MediaOverloaded, match="too busy to take another microphone"):
            await engine.add_speaker("room", "alice", offer)
        await clock.advance(4.5)  # caught up, and the window of late ticks has passed
        assert not engine.falling_behind()
        assert len(room.frames) == pytest.approx(clock.now() / 0.02, abs=1)  # none left out
        peer = SpeakerPeer(tone(520))
        await connect(engine, "alice", peer)
        assert engine.connected("room") == {"alice"}
        for each in (turned_away, peer):
            await each.close()
        await engine.close()

    asyncio.run(scenario())


def test_a_minute_of_a_room_is_stored_in_a_moment_on_a_stepped_clock(tmp_path: Path) -> None:
    """The room and its recorder run on the frame clock: 61 s of ticks without waiting
    for them, stored as 30 segments of 2 s and the rest, one timeline."""
    started = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    storage = LocalStorage(tmp_path)

    async def scenario() -> list[SegmentStored]:
        clock = SteppedFrameClock()
        engine = AiortcMediaEngine(
            speaker_timeout=30, storage=storage, clock=SettableClock(started), frame_clock=clock
        )
        room = Collected()
        assert await engine.open_room("room", room, segments=SegmentPlan("live/", started)) == 0
        await clock.advance(61.0)
        await engine.close_room("room")
        assert room.frames == []  # the program went to storage, not to the callbacks
        assert room.errors == []
        return room.stored

    stored = asyncio.run(scenario())
    segments = [notice.segment for notice in stored]
    assert len(segments) == 31
    assert all(s.duration == pytest.approx(2.0, abs=0.03) for s in segments[:-1])
    for before, after in itertools.pairwise(segments):
        assert after.first_sample == before.first_sample + before.samples
        assert after.sequence == before.sequence + 1
    ticks = 61.0 / 0.02 + 1  # the first tick runs as the room opens
    assert stored[-1].duration == pytest.approx(ticks * 0.02, abs=1024 / 48_000)
    assert storage.list("live/") == [s.key for s in segments]


def test_each_speaker_is_kept_on_a_track_of_their_own() -> None:
    """Alice and Bob talk at once (two tones); each track holds only its own speaker,
    silence while muted, and goes on through a reconnection."""

    async def scenario() -> None:
        engine = AiortcMediaEngine(speaker_timeout=30)
        room = Collected()
        await engine.open_room("room", room, tracks=True)
        alice, bob = SpeakerPeer(tone(520)), SpeakerPeer(tone(1310))
        await connect(engine, "alice", alice)
        await connect(engine, "bob", bob)
        await asyncio.sleep(1.5)
        await engine.set_muted("room", "alice", True)
        await asyncio.sleep(1.0)
        await engine.set_muted("room", "alice", False)
        again = SpeakerPeer(tone(520))
        await connect(engine, "alice", again)
        await asyncio.sleep(1.5)
        for peer in (alice, bob, again):
            await peer.close()
        await engine.close()
        ticks = len(room.frames)

        tracks: dict[str, np.ndarray] = {}
        for speaker in ("alice", "bob"):
            parts = [p for p in room.track_parts if p.speaker == speaker]
            first = parts[0].first_frame
            packets = [packet for part in parts for packet in part.packets]
            assert first + len(packets) == ticks  # one packet a tick, to the room's end
            pcm, _ = decoded(b"".join(ogg_opus(packets, 960)))
            tracks[speaker] = np.concatenate([np.zeros(first * 960, np.float32), pcm])
        assert band_share(tracks["alice"][24_000:72_000], 520) > 0.8
        assert band_share(tracks["alice"][24_000:72_000], 1310) < 0.01
        assert band_share(tracks["bob"][24_000:], 1310) > 0.8
        assert band_share(tracks["bob"][24_000:], 520) < 0.01
        # Muted from about 1.5 s to 2.5 s: Alice's track is silent in between.
        muted = next(c.at for c in room.changes if c.speaker == "alice" and not c.speaking)
        middle = round((muted + 0.4) * 48_000)
        assert np.abs(tracks["alice"][middle : middle + 24_000]).max() < 0.01
        # After the reconnection her voice is back on the same track.
        assert band_share(tracks["alice"][-48_000:], 520) > 0.8

    asyncio.run(scenario())


def test_everyone_not_talking_hears_one_shared_encoding_of_the_program() -> None:
    """Alice talks, Bob and Carol listen: the mix both of them hear is the program,
    encoded once a tick for the two of them, and Alice's own mix (silence) costs nothing."""

    async def scenario() -> None:
        engine = AiortcMediaEngine(speaker_timeout=30)
        room = Collected()
        await engine.open_room("room", room)
        quiet = np.zeros(48_000, np.float32)
        alice, bob, carol = (
            SpeakerPeer(tone(520)),
            SpeakerPeer(recording(quiet)),
            SpeakerPeer(recording(quiet)),
        )
        for name, peer in (("alice", alice), ("bob", bob), ("carol", carol)):
            await connect(engine, name, peer)
        await asyncio.sleep(2.5)
        mixing = engine.mixing_room("room")
        ticks = mixing.ticks
        shared = mixing.program_for_listeners.encoded
        for listener in (bob, carol):
            assert band_share(listener.heard.audio()[-48_000:], 520) > 0.8
        assert np.abs(alice.heard.audio()[-48_000:]).max() < 0.01
        assert ticks - 60 <= shared <= ticks  # one encode a tick for both listeners
        for peer in (alice, bob, carol):
            await peer.close()
        await engine.close()

    asyncio.run(scenario())


def test_a_speaker_hears_their_own_mix_until_half_a_second_after_they_stop() -> None:
    """Every leg gets exactly one packet a tick, from its own encoder while its speaker
    talks and for OWN_MIX_HANGOVER_TICKS after, then the shared one."""

    async def scenario() -> None:
        room = MixingRoom("room", Collected(), speaker_timeout=30, tracks=False)
        for name in ("alice", "bob", "carol"):
            room.legs[name] = SpeakerLeg(
                pc=RTCPeerConnection(), returns=ReturnTrack(), last_heard=0.0, repair=False
            )
        voice, quiet = tone(520), np.zeros(960, np.float32)
        talked = 10
        for tick in range(talked + OWN_MIX_HANGOVER_TICKS + 5):
            room.legs["alice"].accept(voice(tick) if tick < talked else quiet)
            room.legs["bob"].accept(tone(1310)(tick))  # Bob talks all along
            room.tick()
            last = {name: leg.returns.queued()[-1] for name, leg in room.legs.items()}
            from_shared = last["carol"]
            alice_shared = last["alice"] == from_shared
            assert alice_shared == (tick >= talked + OWN_MIX_HANGOVER_TICKS), tick
            assert last["bob"] != from_shared  # he does not hear himself
        for leg in room.legs.values():
            assert leg.returns.sent_samples == room.ticks * 960  # one packet a tick, no more
            await leg.close()

    asyncio.run(scenario())
