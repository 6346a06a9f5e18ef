"""Each speaker's own track in the room: one packet per tick from when they connect,
what they sent when heard, a one-byte no-data packet otherwise, handed over in parts."""

from __future__ import annotations

import pytest

from airspace.media.opus import VoiceEncoder
from airspace.media.peer import tone
from airspace.media.speaker_tracks import (
    PART_FRAMES,
    SpeakerTracks,
    TrackPart,
    no_data,
    packets_of,
    part_bytes,
    silent_packet,
)


def test_tracks_start_when_their_speaker_connects_and_keep_what_they_sent() -> None:
    parts: list[TrackPart] = []
    tracks = SpeakerTracks(parts.append)
    sent = VoiceEncoder(9)
    alice, bob = tone(520), tone(1310)
    alice_sent: list[bytes] = []
    for tick in range(PART_FRAMES + 100):
        speakers = ["alice"] + (["bob"] if tick >= 30 else [])
        packet = sent.payload(alice(tick))
        alice_sent.append(packet)
        heard = {"alice": (alice(tick), packet)}
        if 30 <= tick < 80:
            heard["bob"] = (bob(tick), None)  # made up after a loss: encoded here
        tracks.add(tick, speakers, heard)
    tracks.flush()

    alices = [p for p in parts if p.speaker == "alice"]
    bobs = [p for p in parts if p.speaker == "bob"]
    assert [(p.first_frame, len(p.packets)) for p in alices] == [(0, PART_FRAMES), (500, 100)]
    assert [(p.first_frame, len(p.packets)) for p in bobs] == [(30, PART_FRAMES), (530, 70)]
    assert [packet for part in alices for packet in part.packets] == alice_sent
    bob_packets = bobs[0].packets
    assert min(len(p) for p in bob_packets[:50]) > 20  # encoded
    # After he stopped: a byte a frame, in the mode of his last packet.
    assert set(bob_packets[50:]) == {no_data(bob_packets[49])}
    assert len(no_data(bob_packets[49])) == 1
    tracks.flush()
    assert len(parts) == 4  # nothing more to hand over


def test_a_speaker_never_heard_has_a_track_of_silence() -> None:
    parts: list[TrackPart] = []
    tracks = SpeakerTracks(parts.append)
    for tick in range(10):
        tracks.add(tick, ["quiet"], {})
    tracks.flush()
    [part] = parts
    assert part.packets == (silent_packet(),) * 10


def test_parts_are_stored_as_length_prefixed_packets() -> None:
    packets = [b"", b"\x01", bytes(range(256)) * 3]
    assert packets_of(part_bytes(packets)) == packets
    with pytest.raises(ValueError, match="ends inside"):
        packets_of(part_bytes(packets)[:-1])
    with pytest.raises(ValueError, match="ends inside"):
        packets_of(b"\x00")
