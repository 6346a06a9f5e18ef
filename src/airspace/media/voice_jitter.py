"""A jitter buffer for one voice: hold a few packets to put them back in order, and when
one is lost, go on without it, saying how many were lost before the next (the decoder
recovers the last of them from that packet's FEC and conceals the others).

aiortc's own buffer waits at a missing packet until it has filled up (16 packets, 320
ms) and from then on stays that full, so one lost packet adds a third of a second to
everything the speaker says afterwards. Here a missing packet is given up as soon as
``prefetch`` later ones have arrived: a loss costs 20 ms of that speaker's audio, never
lasting delay. An Opus RTP packet is one whole frame (RFC 7587), so there is nothing to
reassemble.

A sender that sends RED (``airspace.media.opus_red``) puts the packet before each one in
it again: a packet lost on the way is then taken from the next one, whole, when that one
arrives in time.
"""

from __future__ import annotations

import logging

from aiortc.jitterbuffer import JitterFrame
from aiortc.rtp import RtpPacket

from airspace.media.opus_red import MalformedRed, RedFormat, split_red

logger = logging.getLogger(__name__)

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
    can use it. Packets of ``red.red`` are unpacked (RED); of what they carry, only
    blocks of ``red.opus`` are taken (RFC 2198 allows other codecs, which are skipped)."""

    def __init__(self, prefetch: int, red: RedFormat | None = None) -> None:
        self.prefetch = prefetch
        self.red = red
        self._next: int | None = None
        self._held: dict[int, VoiceFrame] = {}
        self._spare: dict[int, VoiceFrame] = {}
        """Copies of packets not (yet) received, from the RED of the ones after them."""
        self.lost = 0
        self.late = 0
        self.restored = 0
        """Lost packets taken whole from the RED of the next one."""
        self.malformed = 0
        self.red_packets = 0
        """Packets that came as RED."""

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
        payload: bytes = packet._data  # type: ignore[attr-defined]  # depayloaded by aiortc
        if self.red is not None and packet.payload_type == self.red.red and payload:
            try:
                red = split_red(payload)
                if red.primary_payload_type != self.red.opus:
                    raise MalformedRed(f"RED carries payload type {red.primary_payload_type}")
            except MalformedRed as error:
                self.malformed += 1
                logger.debug("dropped a RED packet: %s", error)
                return False, None
            payload = red.primary
            self.red_packets += 1
            for back, block in enumerate(reversed(red.redundant), start=1):
                if block.payload_type != self.red.opus:
                    continue
                self._keep_spare(
                    (sequence - back) % SEQUENCE_SPACE,
                    block.data,
                    packet.timestamp - block.timestamp_offset,
                )
        self._held[sequence] = VoiceFrame(payload, packet.timestamp)
        self._spare.pop(sequence, None)  # the packet itself came after all
        if not self.overfull():
            return False, None
        return False, self.give_up()

    def overfull(self) -> bool:
        """Whether more frames are held than ``prefetch``, copies from RED included (a
        frame restored from the next packet comes out when it would have). A packet
        that brings two frames can leave it over by one: the receiver then takes the
        next one at once, so that the buffer does not stay a frame longer."""
        return len(self._held) + len(self._spare) > self.prefetch

    def _keep_spare(self, sequence: int, data: bytes, timestamp: int) -> None:
        assert self._next is not None
        still_due = (sequence - self._next) % SEQUENCE_SPACE < SEQUENCE_SPACE // 2
        if still_due and sequence not in self._held and data:
            self._spare[sequence] = VoiceFrame(data, timestamp % (1 << 32))

    def give_up(self) -> VoiceFrame | None:
        """The next frame held now, the missing ones before it given up as lost (or
        taken from a RED copy): for a listener that needs audio before the missing
        packet's wait is over."""
        if not self._held or self._next is None:
            return None
        lost_before = 0
        while self._next not in self._held and self._next not in self._spare:
            lost_before += 1
            self._next = (self._next + 1) % SEQUENCE_SPACE
        self.lost += lost_before
        released = self._held.pop(self._next, None)
        spare = self._spare.pop(self._next, None)
        if released is None:
            assert spare is not None
            released = spare
            self.restored += 1
        self._next = (self._next + 1) % SEQUENCE_SPACE
        released.lost_before = lost_before
        return released

    def _restart(self, sequence: int) -> None:
        self._held.clear()
        self._spare.clear()
        self._next = sequence
