"""A speaker in Python: sends audio into a room over WebRTC and keeps what it hears.

A bot speaker for a Space (play a file or a signal into it), and the synthetic speaker
of the tests and of ``bench/live_capacity.py``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCIceServer,
    RTCIceTransportPolicy,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from airspace.media.aiortc_engine import FRAME_SECONDS
from airspace.media.constants import SAMPLE_RATE
from airspace.media.libopus import is_dtx
from airspace.media.mixer import FRAME_SAMPLES
from airspace.media.opus import MICROPHONE_COMPLEXITY, VoiceEncoder
from airspace.media.opus_red import (
    RED_CAPABILITY,
    RedPacker,
    red_format,
    red_packer_for,
    teach_aiortc_red,
    with_red_parameters,
    without_red,
)
from airspace.media.opus_sdp import allows_dtx, asks_for_fec, with_opus_parameters
from airspace.media.voice_receiver import receive_voice

FrameSource = Callable[[int], np.ndarray]
"""Frame number → the next 20 ms (float32 mono, 960 samples)."""


def tone(frequency: float, level: float = 0.3) -> FrameSource:
    """A steady sine wave, continuous across frames."""

    def frame(number: int) -> np.ndarray:
        t = (np.arange(FRAME_SAMPLES) + number * FRAME_SAMPLES) / SAMPLE_RATE
        return (level * np.sin(2 * np.pi * frequency * t)).astype(np.float32)

    return frame


def recording(pcm: np.ndarray, loop: bool = False) -> FrameSource:
    """Play ``pcm`` (48 kHz mono) once, then silence, or over and over with ``loop``."""

    def frame(number: int) -> np.ndarray:
        start = number * FRAME_SAMPLES
        if loop and len(pcm):
            start %= len(pcm)
        chunk = pcm[start : start + FRAME_SAMPLES]
        out = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        out[: len(chunk)] = chunk
        return out

    return frame


DTX_KEEPALIVE_FRAMES = 20
"""In DTX silence one packet in this many (400 ms) is still sent, as libopus expects."""
START_LOSS_PERCENT = 5
"""The loss FEC is carried for until the room reports what it sees."""


class SourceTrack(MediaStreamTrack):
    """Frames from a FrameSource, paced in real time and sent as mono Opus, as a browser
    sends a microphone. ``sent`` maps frame number to the monotonic time it was handed
    to the encoder. With DTX on (the room asks for it), silence is not sent but every
    DTX_KEEPALIVE_FRAMES frames."""

    kind = "audio"

    def __init__(self, source: FrameSource, first_frame: int = 0) -> None:
        super().__init__()
        self.source = source
        self.first_frame = first_frame
        self.number = first_frame
        self.started: float | None = None
        self.sent: dict[int, float] = {}
        self._encoder = VoiceEncoder(MICROPHONE_COMPLEXITY)
        self._unsent = 0
        self.red_packer: RedPacker | None = None
        """Set when the room takes RED: each packet then carries the one before it."""

    @property
    def dtx(self) -> bool:
        return self._encoder.dtx

    def protect(self, loss_percent: float, dtx: bool) -> None:
        """Carry FEC for ``loss_percent`` % loss; with ``dtx``, send no silence."""
        if dtx and not self._encoder.dtx:
            self._encoder = VoiceEncoder(MICROPHONE_COMPLEXITY, dtx=True)
        self._encoder.protect(loss_percent)

    def protect_measured(self, lost_fraction: float) -> None:
        """FEC for the loss the room reports (see VoiceEncoder.protect_measured)."""
        self._encoder.protect_measured(lost_fraction, red=self.red_packer is not None)

    async def recv(self) -> av.Packet[Any]:
        while True:
            if self.readyState != "live":
                raise MediaStreamError
            if self.started is None:
                self.started = time.monotonic()
            due = self.started + (self.number - self.first_frame) * FRAME_SECONDS
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self.sent[self.number] = time.monotonic()
            packet = self._encoder.encode(self.source(self.number))
            self.number += 1
            if self._encoder.dtx and is_dtx(bytes(packet)):
                self._unsent += 1
                if self._unsent % DTX_KEEPALIVE_FRAMES:
                    continue  # silence: nothing to send
            else:
                self._unsent = 0
            if self.red_packer is not None:
                red = av.Packet(self.red_packer.pack(bytes(packet), int(packet.pts or 0)))
                red.pts, red.time_base = packet.pts, packet.time_base
                return red
            return packet


@dataclass
class Heard:
    """What a speaker received: samples, and when each block arrived (monotonic s)."""

    blocks: list[np.ndarray] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)

    def audio(self) -> np.ndarray:
        return np.concatenate(self.blocks) if self.blocks else np.zeros(0, np.float32)


class SpeakerPeer:
    """One WebRTC speaker: ``offer()``, hand the SDP to the room, ``accept(answer)``."""

    def __init__(
        self,
        source: FrameSource,
        receive_buffer_packets: int = 4,
        first_frame: int = 0,
        ice_servers: list[RTCIceServer] | None = None,
        relay_only: bool = False,
        protect: bool = True,
        asks_for_red: bool = True,
    ) -> None:
        """``receive_buffer_packets``: 20 ms packets held before decoding what the room
        sends back (4, aiortc's own, unless told). ``first_frame``: where in ``source``
        to start (a speaker reconnecting carries on where it was). ``ice_servers``: STUN
        and TURN, as the room's ``ice-servers`` answer gives them; ``relay_only``: reach
        the room through TURN alone, as a browser behind a strict NAT or firewall does.
        ``protect``: as browsers do, ask for FEC in what it hears, and send FEC (at the
        loss the room reports) and DTX when the room asks for them. ``asks_for_red``:
        with ``protect``, ask for Opus in RED, as the room page asks the browser."""
        teach_aiortc_red()
        policy = RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=ice_servers or [], iceTransportPolicy=policy)
        )
        self.track = SourceTrack(source, first_frame)
        self.heard = Heard()
        self.pc.addTrack(self.track)
        self.protecting = protect
        self.asks_for_red = protect and asks_for_red
        if self.asks_for_red:  # RED first: ask for it, as a browser that prefers it does
            opus = [c for c in RTCRtpSender.getCapabilities("audio").codecs if c.name == "opus"]
            self.pc.getTransceivers()[0].setCodecPreferences([RED_CAPABILITY, *opus])
        self.voice = receive_voice(self.pc, receive_buffer_packets, self._hear, repair=protect)
        self._adapting: asyncio.Task[None] | None = None

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        sdp = str(self.pc.localDescription.sdp)
        if not self.asks_for_red:
            sdp = without_red(sdp)
        if not self.protecting:
            return sdp
        self.voice.expect_red(red_format(sdp))
        return with_red_parameters(with_opus_parameters(sdp, {"useinbandfec": "1"}))

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))
        if self.protecting:
            self.track.red_packer = red_packer_for(answer_sdp)
        if self.protecting and asks_for_fec(answer_sdp):
            start = 1 if self.track.red_packer is not None else START_LOSS_PERCENT
            self.track.protect(start, allows_dtx(answer_sdp))
            self._adapting = asyncio.create_task(self._follow_reported_loss())

    async def _follow_reported_loss(self) -> None:
        """FEC for the loss the room reports (RTCP receiver reports), every 2 s."""
        while True:
            await asyncio.sleep(2.0)
            try:
                report = await self.pc.getStats()
            except Exception:  # closing
                return
            for stats in report.values():
                if getattr(stats, "type", "") == "remote-inbound-rtp":
                    # RTCP's 8-bit fraction, as aiortc passes it on: 256 is everything.
                    lost = float(getattr(stats, "fractionLost", 0) or 0) / 256
                    self.track.protect_measured(lost)

    def _hear(self, samples: np.ndarray) -> None:
        self.heard.blocks.append(samples)
        self.heard.arrivals.append(time.monotonic())

    async def close(self) -> None:
        if self._adapting is not None:
            self._adapting.cancel()
        self.track.stop()
        await self.pc.close()
