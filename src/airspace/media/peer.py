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
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from airspace.media.aiortc_engine import FRAME_SECONDS
from airspace.media.constants import SAMPLE_RATE
from airspace.media.mixer import FRAME_SAMPLES
from airspace.media.opus import MICROPHONE_COMPLEXITY, VoiceEncoder
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


class SourceTrack(MediaStreamTrack):
    """Frames from a FrameSource, paced in real time and sent as mono Opus, as a browser
    sends a microphone. ``sent`` maps frame number to the monotonic time it was handed
    to the encoder."""

    kind = "audio"

    def __init__(self, source: FrameSource, first_frame: int = 0) -> None:
        super().__init__()
        self.source = source
        self.first_frame = first_frame
        self.number = first_frame
        self.started: float | None = None
        self.sent: dict[int, float] = {}
        self._encoder = VoiceEncoder(MICROPHONE_COMPLEXITY)

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if self.started is None:
            self.started = time.monotonic()
        delay = self.started + (self.number - self.first_frame) * FRAME_SECONDS - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self.sent[self.number] = time.monotonic()
        packet = self._encoder.encode(self.source(self.number))
        self.number += 1
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
    ) -> None:
        """``receive_buffer_packets``: 20 ms packets held before decoding what the room
        sends back (4, aiortc's own, unless told). ``first_frame``: where in ``source``
        to start (a speaker reconnecting carries on where it was). ``ice_servers``: STUN
        and TURN, as the room's ``ice-servers`` answer gives them; ``relay_only``: reach
        the room through TURN alone, as a browser behind a strict NAT or firewall does."""
        policy = RTCIceTransportPolicy.RELAY if relay_only else RTCIceTransportPolicy.ALL
        self.pc = RTCPeerConnection(
            RTCConfiguration(iceServers=ice_servers or [], iceTransportPolicy=policy)
        )
        self.track = SourceTrack(source, first_frame)
        self.heard = Heard()
        self.pc.addTrack(self.track)
        receive_voice(self.pc, receive_buffer_packets, self._hear)

    async def offer(self) -> str:
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return str(self.pc.localDescription.sdp)

    async def accept(self, answer_sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))

    def _hear(self, samples: np.ndarray) -> None:
        self.heard.blocks.append(samples)
        self.heard.arrivals.append(time.monotonic())

    async def close(self) -> None:
        self.track.stop()
        await self.pc.close()
