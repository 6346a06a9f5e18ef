"""One speaker's connection in a room: their voice's queue, which is their adaptive
jitter buffer, and the return track that carries what they hear.

The queue may hold more frames the more that speaker's packets jitter (from 3 up to 8,
``depth_for``) and shrinks back as the jitter does. A frame the room's clock needs while
the voice is flowing but the next packet is late is made up by concealment rather than
heard as a gap. Each frame keeps the Opus packet it was decoded from (None when it was
recovered or made up), so the speaker's own track stores what they sent as it is.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import av
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError

from airspace.media.link_quality import QualityMeter
from airspace.media.mixer import FRAME_SAMPLES
from airspace.media.opus import MIX_COMPLEXITY, TIME_BASE, VoiceEncoder
from airspace.media.opus_red import RedPacker
from airspace.media.voice_receiver import VoiceReceiver

MAX_QUEUED_FRAMES = 3
"""Frames a leg may hold in either direction; older ones are dropped to bound the delay.
A speaker's inbound queue holds more while their packets jitter (``depth_for``)."""
MOST_QUEUED_FRAMES = 8
"""The most an inbound queue holds, however much a speaker's packets jitter."""
OVERFILL = 2
"""Frames a speaker's queue may run over its depth while it holds no quiet frame."""
QUIET_LEVEL = 0.01
"""A frame peaking below this (-40 dBFS) is a pause, the first to go from a full queue."""
MAX_CONCEALED_TICKS = 3
"""Ticks in a row made up while a flowing voice's next frame is late; then a pause."""


class ReturnTrack(MediaStreamTrack):
    """What one speaker hears: the mix of everyone else, 20 ms at a time, as mono Opus
    packets: encoded by the track itself (see airspace.media.opus) while its speaker
    talks, else the room's one encoding of the program, which is what everyone who is
    not talking hears (``put_encoded``)."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._packets: deque[av.Packet[Any]] = deque(maxlen=MAX_QUEUED_FRAMES)
        """The newest few: a reader that falls behind skips the oldest."""
        self._arrived = asyncio.Event()
        self._encoder = VoiceEncoder(MIX_COMPLEXITY)
        self._sent = 0
        self.red_packer: RedPacker | None = None
        """Set when the speaker takes RED: each packet then carries the one before it."""

    @property
    def sent_samples(self) -> int:
        """Samples put so far (the RTP timestamp of the next packet)."""
        return self._sent

    def queued(self) -> list[bytes]:
        """The packets waiting to be sent, oldest first."""
        return [bytes(packet) for packet in self._packets]

    def protect_measured(self, lost_fraction: float) -> None:
        """Carry FEC for a path measured to lose ``lost_fraction`` of packets."""
        self._encoder.protect_measured(lost_fraction, red=self.red_packer is not None)

    def put(self, pcm: np.ndarray) -> None:
        """Encode and send the next 20 ms."""
        self.put_encoded(self._encoder.payload(pcm))

    def put_encoded(self, payload: bytes) -> None:
        """Send the next 20 ms, already encoded."""
        if self.red_packer is not None:
            payload = self.red_packer.pack(payload, self._sent)
        packet = av.Packet(payload)
        packet.pts = self._sent  # RTP timestamps count from the first packet sent
        packet.time_base = TIME_BASE
        self._sent += FRAME_SAMPLES
        self._packets.append(packet)
        self._arrived.set()

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        while not self._packets:
            self._arrived.clear()
            await self._arrived.wait()
            if self.readyState != "live":
                raise MediaStreamError
        return self._packets.popleft()


def depth_for(jitter_ms: float) -> int:
    """Frames a speaker's queue may hold for packets jittering by ``jitter_ms`` (RFC
    3550's estimate, about the mean deviation): room for three deviations."""
    return max(MAX_QUEUED_FRAMES, min(MOST_QUEUED_FRAMES, 2 + math.ceil(3 * jitter_ms / 20)))


Queued = tuple[np.ndarray, bytes | None]
"""A 20 ms frame and the packet it was decoded from (None: recovered, made up, or cut
from a longer packet)."""


@dataclass
class SpeakerLeg:
    pc: RTCPeerConnection
    returns: ReturnTrack
    last_heard: float
    inbound: deque[Queued] = field(default_factory=deque)
    pending: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    muted: bool = False
    meter: QualityMeter = field(default_factory=QualityMeter)
    receiver: VoiceReceiver | None = None
    """What decodes the speaker's packets."""
    repair: bool = True
    """Whether lost and late frames are recovered and concealed (off only to measure)."""
    depth: int = MAX_QUEUED_FRAMES
    """Frames the inbound queue may hold now (see ``depth_for``)."""
    flowing: bool = False
    """Whether the last tick took a frame of this speaker's voice from the queue."""
    talking: bool = False
    """Whether that frame was more than a pause."""
    concealed_run: int = 0
    protect_returns: bool = False
    """Whether the speaker asked for FEC in what they hear (their offer's Opus line)."""
    own_mix_ticks: int = 0
    """Ticks left in which this speaker hears a mix encoded for them alone (they talked
    lately); at 0 they hear the program encoded for everyone not talking."""
    lost_fraction: float = 0.0
    """The share of packets lost on the way to the room, as last measured."""
    packet: bytes | None = None
    """The packet the frame of the last tick was decoded from (see ``Queued``)."""

    @property
    def voice(self) -> VoiceReceiver | None:
        """The receiver, when losses are repaired."""
        return self.receiver if self.repair else None

    def next_frame(self) -> np.ndarray | None:
        self.packet = None
        if self.voice is None:  # no repair: the frame if it is there
            return self._take() if self.inbound else None
        return self._next_repaired()

    def _take(self) -> np.ndarray:
        frame, self.packet = self.inbound.popleft()
        return frame

    def _next_repaired(self) -> np.ndarray | None:
        """The frame for this tick: the next received one; while the voice is flowing
        and it is late, a made-up one (a few in a row at most); else None. A voice that
        starts again (after a pause the sender did not send, or a gap) waits until the
        queue holds what the jitter calls for, so it does not run dry at once."""
        voice = self.voice
        assert voice is not None
        if not self.flowing and len(self.inbound) < max(1, self.depth - 2):
            return None
        if not self.inbound and self.flowing:
            voice.pull()  # a packet is missing: go on from the ones behind it
        if self.inbound:
            self.flowing, self.concealed_run = True, 0
            frame = self._take()
            self.talking = float(np.abs(frame).max()) >= QUIET_LEVEL
            return frame
        # Late in the middle of a word: made up. After a quiet frame the sender has most
        # likely paused (DTX sends nothing in silence): a pause is not made up.
        if self.flowing and self.talking and self.concealed_run < MAX_CONCEALED_TICKS:
            self.concealed_run += 1
            return voice.conceal(FRAME_SAMPLES)
        self.flowing = False
        return None

    def accept(self, samples: np.ndarray, packet: bytes | None = None) -> None:
        """Queue received samples as whole 20 ms frames, whatever size they came in;
        ``packet``, what they were decoded from, goes with them when it is one frame."""
        whole_packet = packet if not self.pending.size and len(samples) == FRAME_SAMPLES else None
        if self.pending.size:
            samples = np.concatenate([self.pending, samples])
        whole = len(samples) // FRAME_SAMPLES * FRAME_SAMPLES
        for start in range(0, whole, FRAME_SAMPLES):
            self.inbound.append((samples[start : start + FRAME_SAMPLES], whole_packet))
        self.pending = samples[whole:]
        self._trim()

    def _trim(self) -> None:
        """Keep the queue at its depth: a frame over it goes when it is a quiet one (a
        pause shortened by 20 ms goes unheard), or, past OVERFILL frames more, the
        oldest, whatever it holds (the delay stays bounded)."""
        while len(self.inbound) > self.depth:
            if self.voice is None:  # no repair: the oldest goes
                self.inbound.popleft()
                continue
            levels = [float(np.abs(frame).max()) for frame, _ in self.inbound]
            quietest = int(np.argmin(levels))
            if levels[quietest] < QUIET_LEVEL:
                del self.inbound[quietest]
            elif len(self.inbound) > self.depth + OVERFILL:
                self.inbound.popleft()
            else:
                return

    async def close(self) -> None:
        self.returns.stop()
        await self.pc.close()
