"""Fetching processes: every segment is accounted for, and a worker that dies stops the
download instead of leaving a hole."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from airspace.downloader.errors import FetchError
from airspace.downloader.fetch_workers import Fetched, FetchSettings, FetchWorkers
from airspace.downloader.hls import Segment
from airspace.downloader.net import HttpOptions
from airspace.downloader.parts import PartsCache
from airspace.downloader.segments import read_segment
from tests.downloader.hls_server import FakeServer, make_recording


def segments_of(
    server: FakeServer, seconds: float
) -> tuple[list[tuple[int, Segment]], list[bytes]]:
    recording = make_recording(seconds, "ts", seed=3)
    server.serve_recording(recording)
    listed = [
        (i, Segment(f"{server.url}/hls/seg{i}.ts", duration, i))
        for i, duration in enumerate(recording.durations())
    ]
    return listed, recording.segments


def run(segments: list[tuple[int, Segment]], directory: Path, on_segment: object) -> None:
    async def go() -> None:
        http = HttpOptions(retries=1, backoff_seconds=0.01)
        settings = FetchSettings({}, 1, 2, http, None, directory, "test")
        workers = FetchWorkers(
            segments,
            2,
            settings,
            lambda fetched: on_segment(workers, fetched),  # type: ignore[operator]
        )
        await workers.wait()

    asyncio.run(go())


def test_every_segment_is_stored_once_and_readable(server: FakeServer, tmp_path: Path) -> None:
    segments, bodies = segments_of(server, 11.0)
    PartsCache(tmp_path, "test").close()
    seen: dict[int, Fetched] = {}
    run(segments, tmp_path, lambda _workers, fetched: seen.setdefault(fetched.index, fetched))
    assert sorted(seen) == [i for i, _ in segments]
    cache = PartsCache(tmp_path, "test")
    for index, fetched in seen.items():
        assert fetched.failure is None
        assert fetched.part is not None
        assert cache.read(index) == read_segment(bodies[index]).to_bytes()
    cache.close()


def test_a_worker_held_up_leaves_the_rest_to_the_others(server: FakeServer, tmp_path: Path) -> None:
    """Segments are claimed as workers get to them, not dealt out in advance: while one
    worker waits on a slow segment, the other fetches everything else."""
    segments, _ = segments_of(server, 15.0)
    server.delay["/hls/seg0.ts"] = 1.0
    PartsCache(tmp_path, "test").close()
    seen: dict[int, Fetched] = {}
    run(segments, tmp_path, lambda _workers, fetched: seen.setdefault(fetched.index, fetched))
    assert sorted(seen) == [i for i, _ in segments]
    files = {index: fetched.part.file for index, fetched in seen.items() if fetched.part}
    assert len(files) == len(segments)
    assert {files[i] for i in files if i != 0} == {files[1]} != {files[0]}


def test_a_worker_that_dies_stops_the_download(server: FakeServer, tmp_path: Path) -> None:
    """Even when it is the last one running: the other has finished and said so."""
    segments, _ = segments_of(server, 15.0)
    last = segments[-1][0]
    server.delay[f"/hls/seg{last}.ts"] = 1.0
    PartsCache(tmp_path, "test").close()
    arrived: set[int] = set()

    def kill_the_busy_one_once_the_rest_is_in(workers: FetchWorkers, fetched: Fetched) -> None:
        arrived.add(fetched.index)
        if len(arrived) == len(segments) - 1:

            def kill() -> None:
                for process in workers._processes:
                    if process.pid is not None and process.is_alive():
                        os.kill(process.pid, signal.SIGKILL)

            asyncio.get_running_loop().call_later(0.2, kill)  # after the other's "done"

    with pytest.raises(FetchError, match="stopped unexpectedly"):
        run(segments, tmp_path, kill_the_busy_one_once_the_rest_is_in)
    assert last not in arrived  # it really died before its segment was in
