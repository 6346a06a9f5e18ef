"""A jitter buffer for one voice: hold a few packets to put them back in order, and when
one is lost, go on without it, saying how many were lost before the next (the decoder
recovers the last of them from that packet's FEC and conceals the others).

aiortc's own buffer waits at a missing packet until it has filled up (16 packets, 320
ms) and from then on stays that full, so one lost packet adds a third of a second to
everything the speaker says afterwards. Here a missing packet is given up as soon as
``prefetch`` later ones have arrived: a loss costs 20 ms of that speaker's audio, never
lasting delay. An Opus RTP packet is one whole frame (RFC 7587), so there is nothing to
reassemble.
"""

from __future__ import annotations

from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket

SEQUENCE_SPACE = 1 << 16
MAX_LATE = 100
"""Packets this far behind are late (dropped); further back, the sender has restarted."""
MAX_JUMP = 3000
"""A jump forward of more than this (a minute of 20 ms packets) is a restart, not a loss."""


class VoiceFrame(JitterFrame):
    """A frame, and how many packets were lost just before it (a DTX pause skips no
    sequence number, so it is never counted as a loss)."""

    def __init__(self, data: bytes, timestamp: int, lost_before: int = 0) -> None:
        super().__init__(data, timestamp)
        self.lost_before = lost_before


class VoiceJitterBuffer:
    """Takes RTP packets as they arrive; gives back frames in order, ``prefetch`` packets
    behind the newest. Has ``add`` as aiortc's JitterBuffer does, so an RTCRtpReceiver
    can use it."""

    def __init__(self, prefetch: int) -> None:
        self.prefetch = prefetch
        self._next: int | None = None
        self._held: dict[int, RtpPacket] = {}
        self.lost = 0
        self.late = 0

    def add(self, packet: RtpPacket) -> tuple[bool, JitterFrame | None]:
        """(whether to ask for a key frame: never for audio, the next frame or None)."""
        sequence = packet.sequence_number
        if self._next is None:
            self._next = sequence
        ahead = (sequence - self._next) % SEQUENCE_SPACE
        if ahead >= SEQUENCE_SPACE // 2:  # behind the next packet due
            if SEQUENCE_SPACE - ahead <= MAX_LATE:
                self.late += 1
                return False, None
            self._restart(sequence)
        elif ahead > MAX_JUMP:
            self._restart(sequence)
        self._held[sequence] = packet
        if len(self._held) <= self.prefetch:
            return False, None
        return False, self.give_up()

    def give_up(self) -> VoiceFrame | None:
        """The next frame held now, the missing ones before it given up as lost: for a
        listener that needs audio before the missing packet's wait is over."""
        if not self._held or self._next is None:
            return None
        lost_before = 0
        while self._next not in self._held:
            lost_before += 1
            self._next = (self._next + 1) % SEQUENCE_SPACE
        self.lost += lost_before
        released = self._held.pop(self._next)
        self._next = (self._next + 1) % SEQUENCE_SPACE
        payload: bytes = released._data  # type: ignore[attr-defined]  # depayloaded by aiortc
        return VoiceFrame(payload, released.timestamp, lost_before)

    def _restart(self, sequence: int) -> None:
        self._held.clear()
        self._next = sequence
