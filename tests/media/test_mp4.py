"""The M4A writer: the index before the media whether or not its room was reserved, the
very frames that went in, an exact start, and tags written in place."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import mutagen.mp4
import pytest

from airspace.media.adts import audio_specific_config
from airspace.media.constants import AAC_FRAME_SAMPLES
from airspace.media.mp4 import Mp4AudioWriter, frames_with_margin
from tests.downloader.hls_server import make_recording

RATE = 48_000


def top_level_boxes(path: Path) -> list[tuple[bytes, int, int]]:
    """(kind, offset, size) of each top-level box."""
    data = path.read_bytes()
    boxes, at = [], 0
    while at < len(data):
        size, kind = struct.unpack(">I4s", data[at : at + 8])
        if size == 1:
            size = struct.unpack(">Q", data[at + 8 : at + 16])[0]
        assert size >= 8, (kind, at)
        boxes.append((kind, at, size))
        at += size
    assert at == len(data)
    return boxes


def payloads(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(packet) for packet in container.demux(audio=0) if packet.size]


def write(path: Path, frames: list[bytes], expected_frames: int, skip: int = 0) -> None:
    writer = Mp4AudioWriter(
        path, audio_specific_config(frames[0]), RATE, 1, expected_frames=expected_frames
    )
    for at in range(0, len(frames), 40):  # a few runs of frames, as parts come
        batch = frames[at : at + 40]
        writer.add_joined(b"".join(f[7:] for f in batch), [len(f) - 7 for f in batch])
    writer.finish(skip)


@pytest.mark.parametrize(
    "room", ["reserved", "none", "too little"], ids=["reserved", "none", "too-little"]
)
def test_the_index_comes_first_and_the_frames_are_the_ones_written(
    tmp_path: Path, room: str
) -> None:
    frames = make_recording(6.0, "ts", seed=7).frames
    expected = {
        "reserved": frames_with_margin(len(frames) * AAC_FRAME_SAMPLES),
        "none": 0,
        "too little": len(frames) // 2,
    }[room]
    path = tmp_path / "out.m4a"
    write(path, frames, expected)
    kinds = [kind for kind, _offset, _size in top_level_boxes(path)]
    if room == "reserved":
        assert kinds == [b"ftyp", b"moov", b"free", b"mdat"]
    else:
        assert kinds == [b"ftyp", b"moov", b"mdat"]
    assert payloads(path) == [f[7:] for f in frames]
    assert mutagen.mp4.MP4(path).info.length == pytest.approx(
        len(frames) * AAC_FRAME_SAMPLES / RATE, abs=1e-3
    )
    assert [p.name for p in tmp_path.iterdir()] == ["out.m4a"]


def test_a_start_inside_the_first_frame_is_edited_out_exactly(tmp_path: Path) -> None:
    frames = make_recording(4.0, "ts", seed=8).frames
    path = tmp_path / "out.m4a"
    write(path, frames, frames_with_margin(len(frames) * AAC_FRAME_SAMPLES), skip=300)
    with av.open(str(path)) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
    assert samples == len(frames) * AAC_FRAME_SAMPLES - 300


def test_tags_go_in_the_room_left_for_them_without_moving_the_media(tmp_path: Path) -> None:
    frames = make_recording(4.0, "ts", seed=9).frames
    path = tmp_path / "out.m4a"
    writer = Mp4AudioWriter(
        path,
        audio_specific_config(frames[0]),
        RATE,
        1,
        expected_frames=frames_with_margin(len(frames) * AAC_FRAME_SAMPLES),
        tag_space=4096,
    )
    writer.add([f[7:] for f in frames])
    writer.finish()
    mdat_before = [box for box in top_level_boxes(path) if box[0] == b"mdat"]
    size_before = path.stat().st_size
    tagged = mutagen.mp4.MP4(path)
    tagged["\xa9nam"] = ["A title"]
    tagged["\xa9ART"] = ["The host"]
    tagged["\xa9cmt"] = ["https://example.org/i/spaces/1" + "x" * 500]
    tagged.save()
    assert [box for box in top_level_boxes(path) if box[0] == b"mdat"] == mdat_before
    assert path.stat().st_size == size_before
    assert mutagen.mp4.MP4(path).tags["\xa9ART"] == ["The host"]  # type: ignore[index]
    assert payloads(path) == [f[7:] for f in frames]
