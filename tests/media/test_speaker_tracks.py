"""Each speaker's own track in the room: one packet per tick from when they connect,
their voice when heard and silence otherwise, handed over in parts."""

from __future__ import annotations

import pytest

from airspace.media.peer import tone
from airspace.media.speaker_tracks import (
    PART_FRAMES,
    SpeakerTracks,
    TrackPart,
    packets_of,
    part_bytes,
)


def test_tracks_start_when_their_speaker_connects_and_carry_silence_after() -> None:
    parts: list[TrackPart] = []
    tracks = SpeakerTracks(parts.append)
    alice, bob = tone(520), tone(1310)
    for tick in range(PART_FRAMES + 100):
        speakers = ["alice"] + (["bob"] if tick >= 30 else [])
        frames = {"alice": alice(tick)}
        if 30 <= tick < 80:
            frames["bob"] = bob(tick)
        tracks.add(tick, speakers, frames)
    tracks.flush()

    alices = [p for p in parts if p.speaker == "alice"]
    bobs = [p for p in parts if p.speaker == "bob"]
    assert [(p.first_frame, len(p.packets)) for p in alices] == [(0, PART_FRAMES), (500, 100)]
    assert [(p.first_frame, len(p.packets)) for p in bobs] == [(30, PART_FRAMES), (530, 70)]
    # Bob's silence after he stopped is a byte a frame.
    assert set(bobs[-1].packets) == {bobs[-1].packets[-1]}
    assert len(bobs[-1].packets[0]) == 1
    assert min(len(p) for p in alices[0].packets) > 20  # a tone all along
    tracks.flush()
    assert len(parts) == 4  # nothing more to hand over


def test_parts_are_stored_as_length_prefixed_packets() -> None:
    packets = [b"", b"\x01", bytes(range(256)) * 3]
    assert packets_of(part_bytes(packets)) == packets
    with pytest.raises(ValueError, match="ends inside"):
        packets_of(part_bytes(packets)[:-1])
    with pytest.raises(ValueError, match="ends inside"):
        packets_of(b"\x00")


def test_silence_costs_no_encoding() -> None:
    tracks = SpeakerTracks(lambda part: None)
    for tick in range(200):
        tracks.add(tick, ["quiet"], {})
    encoder = tracks._tracks["quiet"].encoder
    assert encoder.encoded < 20
    assert encoder.steady_silence is not None
