"""Each speaker's own voice as a track of its own, beside the program mix.

From the tick a speaker first connects, every 20 ms of the room adds one Opus packet to
their track: what the room took from them that tick (after loss repair), or silence
when they said nothing, were muted or away. Silence costs no codec work (the encoder's
steady silent packet is repeated), so a track costs an encode only while its speaker
talks; a steady silence is stored as one-byte packets (frames with no data, which a
decoder plays as the silence before them). Every ``PART_FRAMES`` ticks each track is
handed over as a ``TrackPart``; the server stores the parts and, when the Space ends,
joins them into an Ogg Opus file per speaker on the recording's timeline
(``airspace.recordings.speaker_tracks``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from airspace.media.mixer import FRAME_SAMPLES
from airspace.media.opus import VoiceEncoder

TRACK_COMPLEXITY = 4
"""As the mixes sent back to speakers (airspace.media.opus): half libopus's default
cost for nearly the same voice at 32 kb/s."""
PART_FRAMES = 500
"""Ticks (10 s) of each track handed over at a time: what a crashed worker can lose."""
SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.float32)


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


@dataclass
class _Track:
    first_frame: int
    encoder: VoiceEncoder = field(default_factory=lambda: VoiceEncoder(TRACK_COMPLEXITY))
    packets: list[bytes] = field(default_factory=list)


class SpeakerTracks:
    """The tracks of one room; ``deliver`` hears each part (on the room's loop)."""

    def __init__(self, deliver: Callable[[TrackPart], None]) -> None:
        self.deliver = deliver
        self._tracks: dict[str, _Track] = {}

    def add(self, tick: int, speakers: Iterable[str], frames: Mapping[str, np.ndarray]) -> None:
        """Tick number ``tick``: ``speakers`` are connected, ``frames`` what the room took
        from those who were heard (muted speakers left out)."""
        for speaker in speakers:
            if speaker not in self._tracks:
                self._tracks[speaker] = _Track(first_frame=tick)
        for speaker, track in self._tracks.items():
            packet = track.encoder.payload(frames.get(speaker, SILENCE))
            if packet == track.encoder.steady_silence:
                packet = no_data(packet)
            track.packets.append(packet)
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
