"""The live edge a room serves from memory: the newest playlist and the segments it names."""

from __future__ import annotations

from datetime import UTC, datetime

from airspace.live.recorder import LiveEdge
from airspace.media.live_segmenter import HOT_WINDOW, StoredSegment
from airspace.media.program_recorder import SegmentStored


def stored(sequence: int) -> SegmentStored:
    segment = StoredSegment(
        sequence, f"live/{sequence:06d}.ts", sequence * 96_000, 96_000, datetime.now(UTC)
    )
    return SegmentStored(segment, f"ts {sequence}".encode(), f"list {sequence}".encode(), 2.0)


def test_the_edge_keeps_the_newest_segments_and_playlist() -> None:
    edge = LiveEdge()
    assert edge.playlist.startswith(b"#EXTM3U")
    for sequence in range(HOT_WINDOW + 3):
        edge.stored(stored(sequence))
    assert edge.playlist == f"list {HOT_WINDOW + 2}".encode()
    assert edge.segment("000002.ts") is None  # left the window: storage has it
    kept = [edge.segment(f"{n:06d}.ts") for n in range(3, HOT_WINDOW + 3)]
    assert kept == [f"ts {n}".encode() for n in range(3, HOT_WINDOW + 3)]
