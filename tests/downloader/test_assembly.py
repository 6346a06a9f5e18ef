"""Segments settled in any order reach the converter in playlist order; a failure
becomes silence of its exact length, named in a warning; too many failures, or too
many bytes, stop the download."""

from __future__ import annotations

import asyncio
from pathlib import Path

import av
import pytest

from airspace.downloader.assembly import Assembly
from airspace.downloader.converters import Converter, converter_for
from airspace.downloader.errors import FetchError, TooLarge
from airspace.downloader.hls import Segment
from airspace.downloader.parts import PartsCache
from airspace.downloader.progress import Progress
from airspace.media.constants import AAC_FRAME_SAMPLES
from tests.audio import aac_frames, tone_bursts

RATE = 48_000


def segments(count: int) -> list[Segment]:
    return [Segment(f"https://cdn.example/{n}.ts", 2.0, 100 + n) for n in range(count)]


def assembly_for(tmp_path: Path, playlist: list[Segment], **kwargs: object) -> Assembly:
    cache = PartsCache(tmp_path / "parts", "test")
    output = tmp_path / "out.m4a"

    def m4a(sample_rate: int, channels: int) -> Converter:
        return converter_for(
            "m4a", output, sample_rate=sample_rate, channels=channels, trim_start=0
        )

    return Assembly(playlist, cache, m4a, Progress(), lambda: None, **kwargs)  # type: ignore[arg-type]


def stored_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(audio=0) if p.size]


def test_parts_reach_the_converter_in_order_and_a_failure_becomes_silence(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        playlist = segments(4)
        assembly = assembly_for(tmp_path, playlist)
        frames = [aac_frames(tone_bursts(2.0, seed=n))[:94] for n in range(4)]
        for index in (2, 0, 3):  # out of order, as concurrent fetches finish
            data = b"".join(frames[index])
            assembly.cache.write(playlist[index].sequence, data)
            assembly.stored(index, len(frames[index]) * AAC_FRAME_SAMPLES, len(data), (RATE, 1))
        assert assembly.state.segments_done == 3
        assembly.failed(1, "HTTP 404")
        converter = assembly.complete()
        stats = await converter.finish()

        (warning,) = assembly.warnings
        assert "segment 101 (at 0:00:02.000) could not be fetched (HTTP 404)" in warning
        assert "replaced by 2.005 s of silence" in warning  # 94 whole AAC frames
        packets = stored_packets(tmp_path / "out.m4a")
        assert len(packets) == 4 * 94
        assert stats.output_samples == 4 * 94 * AAC_FRAME_SAMPLES
        for index in (0, 2, 3):  # the audio, where it belongs, byte for byte
            expected = [frame[7:] for frame in frames[index]]
            assert packets[index * 94 : (index + 1) * 94] == expected
        assert packets[94:188] != [frame[7:] for frame in frames[1]]

    asyncio.run(scenario())


def test_too_many_failures_stop_the_download(tmp_path: Path) -> None:
    assembly = assembly_for(tmp_path, segments(30))  # up to 3 may fail
    for index in range(3):
        assembly.failed(index, "timed out")
    with pytest.raises(FetchError, match=r"4 segments could not be fetched .*failing"):
        assembly.failed(3, "timed out")


def test_nothing_fetched_is_an_error_naming_why(tmp_path: Path) -> None:
    assembly = assembly_for(tmp_path, segments(2))
    assembly.failed(0, "HTTP 403")
    assembly.failed(1, "HTTP 403")
    with pytest.raises(FetchError, match=r"no segment could be fetched \(HTTP 403\)"):
        assembly.complete()


def test_a_segment_that_never_settled_stops_the_download(tmp_path: Path) -> None:
    async def scenario() -> None:
        playlist = segments(3)
        assembly = assembly_for(tmp_path, playlist)
        data = b"".join(aac_frames(tone_bursts(2.0))[:94])
        for index in (0, 2):
            assembly.cache.write(playlist[index].sequence, data)
            assembly.stored(index, 94 * AAC_FRAME_SAMPLES, len(data), (RATE, 1))
        with pytest.raises(FetchError, match="segment 101 never arrived"):
            assembly.complete()
        assert assembly.converter is not None
        assembly.converter.abort()

    asyncio.run(scenario())


def test_the_size_cap_counts_fetched_bytes(tmp_path: Path) -> None:
    async def scenario() -> None:
        playlist = segments(3)
        assembly = assembly_for(tmp_path, playlist, max_bytes=2 * 2**20)
        data = b"".join(aac_frames(tone_bursts(2.0))[:94])
        assembly.cache.write(playlist[0].sequence, data)
        assembly.stored(0, 94 * AAC_FRAME_SAMPLES, 2**20, (RATE, 1))
        assembly.cache.write(playlist[1].sequence, data)
        with pytest.raises(TooLarge, match="larger than 2 MB"):
            assembly.stored(1, 94 * AAC_FRAME_SAMPLES, 2**20 + 1, (RATE, 1))
        assert assembly.converter is not None
        assembly.converter.abort()

    asyncio.run(scenario())
