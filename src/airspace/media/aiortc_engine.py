"""The in-process media engine: aiortc peer connections, a 20 ms mixing clock per room.

Each speaker leg (airspace.media.speaker_leg) receives Opus, decoded on arrival (see
airspace.media.voice_receiver), into its adaptive jitter buffer; every 20 ms of
wall-clock time the room takes one frame from each, mixes the program and, for each
speaker, the mix of everyone else, which goes back on the leg's return track. The clock
is absolute: after a stall the room catches up frame by frame, so the program always
holds exactly as much audio as time has passed. Rooms tick on a FrameClock
(airspace.media.frame_clock): the event loop's, or one a test steps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from dataclasses import replace

import numpy as np
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)

from airspace.clock import Clock, SystemClock
from airspace.media.activity import ActivityDetector
from airspace.media.candidates import advertise
from airspace.media.constants import SAMPLE_RATE
from airspace.media.engine import InvalidOffer, MediaOverloaded, RoomCallbacks
from airspace.media.frame_clock import FrameClock, LoopFrameClock
from airspace.media.ice import IceSettings, turn_credentials
from airspace.media.mixer import FRAME_SAMPLES, SILENCE, mix_minus_one, mix_program
from airspace.media.opus import MIX_COMPLEXITY, VoiceEncoder
from airspace.media.opus_red import (
    red_format,
    red_packer_for,
    teach_aiortc_red,
    with_red_parameters,
    without_red,
)
from airspace.media.opus_sdp import LOSS_PROTECTION, asks_for_fec, with_opus_parameters
from airspace.media.program_recorder import ProgramRecorder, SegmentPlan
from airspace.media.speaker_leg import QUIET_LEVEL, ReturnTrack, SpeakerLeg, depth_for
from airspace.media.speaker_tracks import SpeakerTracks
from airspace.media.tick_lateness import TickLateness
from airspace.media.voice_receiver import receive_voice
from airspace.storage.interfaces import Storage

FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
MAX_OFFER_BYTES = 64_000
WATCHDOG_SECONDS = 1.0
"""How often the room looks for speakers whose connection died."""
QUALITY_SECONDS = 2.0
"""How often each speaker's connection quality is measured."""
OWN_MIX_HANGOVER_TICKS = 25
"""Ticks (0.5 s) a speaker who stopped talking keeps hearing a mix encoded for them."""

logger = logging.getLogger(__name__)


class MixingRoom:
    """One room in a media process: its speakers' legs, the 20 ms clock that mixes them,
    what each speaker hears back, and where the program and tracks go."""

    def __init__(
        self,
        name: str,
        callbacks: RoomCallbacks,
        speaker_timeout: float,
        tracks: bool,
        recorder: ProgramRecorder | None = None,
        frame_clock: FrameClock | None = None,
    ) -> None:
        self.name = name
        self.frame_clock = frame_clock or LoopFrameClock()
        self.callbacks = callbacks
        self.recorder = recorder
        self.program = recorder.program if recorder is not None else callbacks.program
        """Where each tick's program goes: stored here, or handed to the callbacks."""
        keep = recorder.track if recorder is not None else callbacks.speaker_track
        self.tracks = SpeakerTracks(keep) if tracks else None
        self.program_for_listeners = VoiceEncoder(MIX_COMPLEXITY)
        """What every speaker not talking hears (the program), encoded once for all."""
        self.speaker_timeout = speaker_timeout
        self.legs: dict[str, SpeakerLeg] = {}
        self.muted: set[str] = set()
        self.detector = ActivityDetector(frame_seconds=FRAME_SECONDS)
        self.ticks = 0
        self.clock: asyncio.Task[None] | None = None
        self.metering: asyncio.Task[None] | None = None
        self.lateness = TickLateness(name)

    async def run(self) -> None:
        clock = self.frame_clock
        started = clock.now()
        next_check = started + WATCHDOG_SECONDS
        try:
            while True:
                # Every tick due by now (after a pause, several: the clock is absolute).
                due = int((clock.now() - started) / FRAME_SECONDS + 1e-9) + 1
                while self.ticks < due:
                    self.tick()
                now = clock.now()
                self.lateness.behind(now - (started + self.ticks * FRAME_SECONDS), now)
                if now >= next_check:
                    next_check = now + WATCHDOG_SECONDS
                    await self.drop_lost_legs(now)
                next_tick = started + self.ticks * FRAME_SECONDS
                await clock.sleep_until(next_tick)
                self.lateness.woke(clock.now() - next_tick, clock.now())
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the room must end cleanly, whatever broke
            logger.exception("media engine failed in room %s", self.name)
            self.callbacks.failed(error)

    def tick(self) -> None:
        at = self.ticks * FRAME_SECONDS
        frames: dict[str, np.ndarray] = {}
        for speaker, leg in self.legs.items():
            frame = leg.next_frame()
            if frame is not None and speaker not in self.muted:
                frames[speaker] = frame
            change = self.detector.feed(speaker, frames.get(speaker, SILENCE), at)
            if change is not None:
                self.callbacks.activity(change)
        program = mix_program(frames)
        self.program(program)
        if self.tracks is not None:
            heard = {
                speaker: (frame, self.legs[speaker].packet) for speaker, frame in frames.items()
            }
            self.tracks.add(self.ticks, self.legs, heard)
        # Whoever is not talking hears everyone: the program, encoded once for all. (A
        # frame under QUIET_LEVEL is not talking: hearing it back at -40 dBFS goes
        # unheard.) A speaker keeps a mix of their own for a moment after they stop, so
        # that what they hear does not change encoder at every pause between words.
        own: set[str] = set()
        for speaker, leg in self.legs.items():
            frame = frames.get(speaker)
            if frame is not None and float(np.abs(frame).max()) >= QUIET_LEVEL:
                leg.own_mix_ticks = OWN_MIX_HANGOVER_TICKS
                own.add(speaker)
            elif leg.own_mix_ticks > 0:
                leg.own_mix_ticks -= 1
                own.add(speaker)
        for speaker, mix in mix_minus_one(frames, list(own)).items():
            self.legs[speaker].returns.put(mix)
        if len(own) < len(self.legs):
            shared = self.program_for_listeners.payload(program)
            for speaker, leg in self.legs.items():
                if speaker not in own:
                    leg.returns.put_encoded(shared)
        self.ticks += 1

    async def measure_links(self) -> None:
        """Every QUALITY_SECONDS, each speaker's loss, jitter and round trip; off the
        mixing loop, so that reading stats never delays a tick."""
        while True:
            await asyncio.sleep(QUALITY_SECONDS)
            for speaker, leg in list(self.legs.items()):
                try:
                    quality = leg.meter.measure(await leg.pc.getStats())
                except Exception:  # a connection closing as it is read: next time
                    logger.debug("no stats for %s in room %s", speaker, self.name, exc_info=True)
                    continue
                if quality is not None and speaker in self.legs:
                    jitter = leg.receiver.jitter if leg.receiver else None
                    quality = replace(quality, red=jitter is not None and jitter.red_packets > 0)
                    leg.lost_fraction = quality.loss
                    if leg.voice is not None:
                        leg.depth = depth_for(quality.jitter_ms)
                    if leg.protect_returns:
                        leg.returns.protect_measured(quality.loss)
                    self.callbacks.link_quality(speaker, quality)
            # The shared encoding carries FEC for the worst path of those who asked.
            asked = [leg.lost_fraction for leg in self.legs.values() if leg.protect_returns]
            if asked:
                self.program_for_listeners.protect_measured(max(asked))

    async def drop_lost_legs(self, now: float) -> None:
        for speaker, leg in list(self.legs.items()):
            state = leg.pc.connectionState
            if state in ("failed", "closed") or now - leg.last_heard > self.speaker_timeout:
                logger.info("room %s: %s lost (%s)", self.name, speaker, state)
                await self.remove(speaker)
                self.callbacks.speaker_lost(speaker)

    async def remove(self, speaker: str) -> None:
        leg = self.legs.pop(speaker, None)
        if leg is not None:
            change = self.detector.leave(speaker, self.ticks * FRAME_SECONDS)
            if change is not None:
                self.callbacks.activity(change)
            await leg.close()


class AiortcMediaEngine:
    """Rooms in this process. ``speaker_timeout``: seconds without audio after which a
    speaker's leg is dropped (their connection died without saying goodbye).
    ``receive_buffer_packets``: 20 ms packets held before decoding; the room's own
    queue of up to three frames absorbs the rest of the network's jitter."""

    def __init__(
        self,
        speaker_timeout: float = 10.0,
        receive_buffer_packets: int = 2,
        media_address: str | None = None,
        ice: IceSettings | None = None,
        repair_losses: bool = True,
        storage: Storage | None = None,
        clock: Clock | None = None,
        frame_clock: FrameClock | None = None,
    ) -> None:
        """``repair_losses``: ask speakers for FEC and DTX, recover and conceal lost
        frames, and send FEC back at the measured loss (off only to measure what that
        buys, as ``bench/network.py`` does). ``storage``: where rooms opened with a
        SegmentPlan store their program (``clock`` dates it). ``frame_clock``: what
        the rooms' 20 ms ticks run on (the event loop's clock; tests step their own)."""
        teach_aiortc_red()
        self.repair_losses = repair_losses
        self.storage = storage
        self.clock = clock or SystemClock()
        self.frame_clock = frame_clock or LoopFrameClock()
        self.speaker_timeout = speaker_timeout
        self.receive_buffer_packets = receive_buffer_packets
        self.media_address = media_address
        self.ice = ice or IceSettings()
        self._rooms: dict[str, MixingRoom] = {}

    def mixing_room(self, room: str) -> MixingRoom:
        """The open room ``room`` (KeyError when it is not open here)."""
        try:
            return self._rooms[room]
        except KeyError:
            raise KeyError(f"no open room {room!r}") from None

    async def start(self) -> None:
        """Nothing to start: rooms run on this event loop."""

    async def open_room(
        self,
        room: str,
        callbacks: RoomCallbacks,
        tracks: bool = False,
        segments: SegmentPlan | None = None,
    ) -> int:
        if room in self._rooms:
            raise ValueError(f"room {room!r} is already open")
        recorder = None
        if segments is not None:
            if self.storage is None:
                raise ValueError("this engine has no storage to store a room's program in")
            recorder = ProgramRecorder(
                self.storage, segments, self.clock, callbacks.segment_stored, callbacks.failed
            )
            tracks = tracks or segments.tracks_prefix is not None
        opened = MixingRoom(
            room, callbacks, self.speaker_timeout, tracks, recorder, self.frame_clock
        )
        self._rooms[room] = opened
        opened.clock = asyncio.create_task(opened.run(), name=f"room-clock-{room}")
        opened.metering = asyncio.create_task(opened.measure_links(), name=f"room-links-{room}")
        return recorder.room_start if recorder is not None else 0

    def lateness(self) -> float:
        """Seconds the most behind room of this engine has lately run late."""
        return max((room.lateness.seconds for room in self._rooms.values()), default=0.0)

    def falling_behind(self) -> bool:
        """Whether any room of this engine is falling behind (airspace.media.tick_lateness):
        the process takes no new microphone until they all keep up again."""
        return any(room.lateness.falling_behind for room in self._rooms.values())

    async def add_speaker(self, room: str, speaker: str, offer_sdp: str) -> str:
        target = self.mixing_room(room)
        _check_offer(offer_sdp)
        if self.falling_behind() and speaker not in target.legs:
            raise MediaOverloaded(
                "this server is too busy to take another microphone right now (its audio "
                f"is running {self.lateness() * 1000:.0f} ms late); try again in a minute"
            )
        clock = self.frame_clock
        pc = RTCPeerConnection(RTCConfiguration(iceServers=aiortc_ice_servers(self.ice)))
        leg = SpeakerLeg(
            pc=pc, returns=ReturnTrack(), last_heard=clock.now(), repair=self.repair_losses
        )

        def heard(samples: np.ndarray) -> None:
            leg.accept(samples, leg.receiver.last_packet if leg.receiver else None)
            leg.last_heard = clock.now()

        leg.protect_returns = asks_for_fec(offer_sdp)
        if not self.repair_losses:
            offer_sdp = without_red(offer_sdp)
        try:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
            leg.receiver = receive_voice(pc, self.receive_buffer_packets, heard, self.repair_losses)
            leg.receiver.expect_red(red_format(offer_sdp))
            pc.addTrack(leg.returns)
            answer = await pc.createAnswer()
            await pc.setLocalDescription(answer)
        except Exception as error:
            await pc.close()
            raise InvalidOffer(f"cannot answer this SDP offer: {error}") from None
        await target.remove(speaker)
        target.legs[speaker] = leg
        answer_sdp = advertise(str(pc.localDescription.sdp), self.media_address)
        answer_sdp = with_red_parameters(answer_sdp)
        leg.returns.red_packer = red_packer_for(answer_sdp)
        return (
            with_opus_parameters(answer_sdp, LOSS_PROTECTION) if self.repair_losses else answer_sdp
        )

    async def remove_speaker(self, room: str, speaker: str) -> None:
        if room in self._rooms:
            await self._rooms[room].remove(speaker)

    async def set_muted(self, room: str, speaker: str, muted: bool) -> None:
        target = self.mixing_room(room)
        if muted:
            target.muted.add(speaker)
        else:
            target.muted.discard(speaker)

    def connected(self, room: str) -> set[str]:
        return set(self.mixing_room(room).legs)

    async def close_room(
        self, room: str, ended_at: float | None = None, abandon: bool = False
    ) -> None:
        closing = self._rooms.pop(room, None)
        if closing is None:
            return
        recorder = closing.recorder
        if recorder is not None and abandon:
            recorder.abandon()
        elif recorder is not None and ended_at is not None:
            recorder.stop_at(ended_at)
        for task in (closing.clock, closing.metering):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if closing.tracks is not None:
            closing.tracks.flush()
        for speaker in list(closing.legs):
            await closing.remove(speaker)
        if recorder is not None and not abandon:
            await recorder.close()

    async def close(self) -> None:
        for room in list(self._rooms):
            await self.close_room(room)


def aiortc_ice_servers(ice: IceSettings) -> list[RTCIceServer]:
    """The engine's own STUN and TURN servers (aiortc uses the first of each kind), with
    fresh TURN credentials for every connection."""
    servers = [RTCIceServer(urls=url) for url in ice.stun[:1]]
    if ice.turn:
        credentials = turn_credentials(ice, "airspace-media", time.time())
        servers.append(
            RTCIceServer(
                urls=ice.turn[0], username=credentials.username, credential=credentials.password
            )
        )
    return servers


def _check_offer(sdp: str) -> None:
    if len(sdp) > MAX_OFFER_BYTES:
        raise InvalidOffer("the SDP offer is too large")
    if not sdp.startswith("v=0"):
        raise InvalidOffer("not an SDP offer: it must start with v=0")
    sections = [line.split() for line in sdp.splitlines() if line.startswith("m=audio")]
    if not sections:
        raise InvalidOffer("the SDP offer has no audio section")
    if len(sections) > 1:
        raise InvalidOffer("the SDP offer has more than one audio section")
    for attribute, what in (
        ("a=fingerprint:", "DTLS fingerprint"),
        ("a=ice-ufrag:", "ICE user name"),
        ("a=ice-pwd:", "ICE password"),
    ):
        # aiortc would answer without them and then fail an assertion connecting.
        if not any(line.startswith(attribute) for line in sdp.splitlines()):
            raise InvalidOffer(f"the SDP offer has no {what} ({attribute.rstrip(':')})")
    if "opus/48000" not in sdp.lower():
        raise InvalidOffer("the SDP offer does not offer Opus audio")
    # The answer keeps the offer's order, and a browser sends the first codec it lists:
    # Opus, or Opus in RED.
    first = re.escape(sections[0][3] if len(sections[0]) > 3 else "")
    if not re.search(rf"^a=rtpmap:{first} (opus|red)/48000", sdp, re.I | re.M):
        raise InvalidOffer("the SDP offer must list Opus (or RED) first in its audio section")
