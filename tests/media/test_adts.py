"""Splitting runs of ADTS frames: whole frames only, one stream's format only."""

from __future__ import annotations

from airspace.media.adts import make_header, parse_header, raw_blocks, split_frames


def frame(payload: bytes, sample_rate: int = 48_000, channels: int = 1) -> bytes:
    return make_header(len(payload), sample_rate, channels) + payload


def test_whole_frames_and_the_first_header() -> None:
    run = frame(b"a" * 10) + frame(b"b" * 300) + frame(b"c")
    frames, header, leftover = split_frames(run)
    assert frames == [frame(b"a" * 10), frame(b"b" * 300), frame(b"c")]
    assert header is not None
    assert (header.sample_rate, header.channels, header.header_length) == (48_000, 1, 7)
    assert leftover == 0
    assert raw_blocks(frames, header.header_length) == [b"a" * 10, b"b" * 300, b"c"]


def test_a_cut_frame_is_left_over() -> None:
    run = frame(b"a" * 10) + frame(b"b" * 20)[:-5]
    frames, _, leftover = split_frames(run)
    assert frames == [frame(b"a" * 10)]
    assert leftover == len(frame(b"b" * 20)) - 5


def test_the_run_stops_where_the_stream_changes_or_breaks() -> None:
    other_rate = frame(b"a") + frame(b"b", sample_rate=44_100)
    assert len(split_frames(other_rate)[0]) == 1
    other_channels = frame(b"a") + frame(b"b", channels=2)
    assert len(split_frames(other_channels)[0]) == 1
    garbage = frame(b"a") + b"\x00" * 20
    assert split_frames(garbage)[2] == 20
    several_blocks = bytearray(frame(b"b"))
    several_blocks[6] |= 0x01  # two raw data blocks in one frame
    assert len(split_frames(frame(b"a") + bytes(several_blocks))[0]) == 1
    too_short = bytearray(frame(b"b"))
    too_short[4], too_short[5] = 0, (3 << 5) | 0x1F  # a frame length shorter than a header
    assert len(split_frames(frame(b"a") + bytes(too_short))[0]) == 1


def test_nothing_to_split() -> None:
    assert split_frames(b"") == ([], None, 0)
    assert split_frames(b"not adts at all") == ([], None, 15)
    assert parse_header(frame(b"x")).frame_length == 8
