"""Each speaker's own voice as a track of its own, beside the program mix.

From the tick a speaker first connects, every 20 ms of the room adds one Opus packet to
their track: the packet the room's frame of them was decoded from, as they sent it (no
encoding, no loss of quality), or, for a frame recovered or made up after a loss, that
frame encoded; when they were not heard (silent, muted, away) a packet with no data,
one byte, which a decoder plays as the continuation of what came before (silence, or
the fade of concealment). Every ``PART_FRAMES`` ticks each track is handed over as a
``TrackPart``; the server stores the parts and, when the Space ends, joins them into an
Ogg Opus file per speaker on the recording's timeline
(``airspace.recordings.speaker_tracks``).
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from airspace.media.mixer import SILENCE
from airspace.media.opus import VoiceEncoder

TRACK_COMPLEXITY = 4
"""For the few frames encoded here (recovered or made up), as the mixes sent back to
speakers (airspace.media.opus)."""
PART_FRAMES = 500
"""Ticks (10 s) of each track handed over at a time: what a crashed worker can lose."""


@dataclass(frozen=True)
class TrackPart:
    """``packets``: one 20 ms Opus packet per tick, from the room's tick ``first_frame``."""

    speaker: str
    first_frame: int
    packets: tuple[bytes, ...]


def no_data(packet: bytes) -> bytes:
    """A packet of the same mode and length as ``packet`` that carries no data (RFC 6716
    3.2.1: the TOC byte, code 0, a frame of length 0): the decoder goes on from what it
    played before, which in a steady silence is silence."""
    return bytes([packet[0] & 0xFC])


def part_bytes(packets: Iterable[bytes]) -> bytes:
    """Packets as stored: each behind its length (two bytes, big-endian)."""
    return b"".join(struct.pack(">H", len(p)) + p for p in packets)


def packets_of(data: bytes) -> list[bytes]:
    """The packets of ``part_bytes``; raises ValueError when ``data`` is cut short."""
    packets, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise ValueError("a track part ends inside a packet's length")
        (size,) = struct.unpack_from(">H", data, at)
        if at + 2 + size > len(data):
            raise ValueError("a track part ends inside a packet")
        packets.append(data[at + 2 : at + 2 + size])
        at += 2 + size
    return packets


@functools.cache
def silent_packet() -> bytes:
    """20 ms of silence as a track holds it: a packet with no data (``no_data``)."""
    return no_data(VoiceEncoder(TRACK_COMPLEXITY).payload(SILENCE))


@dataclass
class _Track:
    first_frame: int
    packets: list[bytes] = field(default_factory=list)
    quiet: bytes = field(default_factory=silent_packet)
    """The no-data packet in the mode of the last packet stored."""
    encoder: VoiceEncoder | None = None
    """Made for the first frame that has no packet of its own."""

    def add(self, heard: tuple[np.ndarray, bytes | None] | None) -> None:
        if heard is None:
            self.packets.append(self.quiet)
            return
        frame, packet = heard
        if not packet:
            if self.encoder is None:
                self.encoder = VoiceEncoder(TRACK_COMPLEXITY)
            packet = self.encoder.payload(frame)
        self.packets.append(packet)
        self.quiet = no_data(packet)


class SpeakerTracks:
    """The tracks of one room; ``deliver`` hears each part (on the room's loop)."""

    def __init__(self, deliver: Callable[[TrackPart], None]) -> None:
        self.deliver = deliver
        self._tracks: dict[str, _Track] = {}

    def add(
        self,
        tick: int,
        speakers: Iterable[str],
        heard: Mapping[str, tuple[np.ndarray, bytes | None]],
    ) -> None:
        """Tick number ``tick``: ``speakers`` are connected; ``heard``, the frame the room
        took from each speaker it heard (muted ones left out) with the packet it was
        decoded from (None: recovered, made up)."""
        for speaker in speakers:
            if speaker not in self._tracks:
                self._tracks[speaker] = _Track(first_frame=tick)
        for speaker, track in self._tracks.items():
            track.add(heard.get(speaker))
            if len(track.packets) >= PART_FRAMES:
                self._hand_over(speaker, track)

    def flush(self) -> None:
        """Hand over what every track holds (the room is closing)."""
        for speaker, track in self._tracks.items():
            if track.packets:
                self._hand_over(speaker, track)

    def _hand_over(self, speaker: str, track: _Track) -> None:
        self.deliver(TrackPart(speaker, track.first_frame, tuple(track.packets)))
        track.first_frame += len(track.packets)
        track.packets = []
