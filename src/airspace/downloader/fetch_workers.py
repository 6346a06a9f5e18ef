"""Fetching on every core: segments shared between worker processes.

On a fast link, fetching a segment costs more Python (the transfer's bookkeeping,
reading the MPEG-TS packets, checking the ADTS frames, writing the part) than waiting
for it, so one process fetching 2,700 segments keeps one core busy and leaves the
other idle. Each worker claims the next segment nobody has taken yet from a counter
they share (so a worker that started later, or shares its core with more, simply takes
fewer), fetches and checks it exactly as a single process would (``fetch_segment``:
retries, backoff, damaged bodies), appends it to a stream of the parts cache of its own,
and tells the parent where it is. The parent keeps the order, the failure count, the size
cap and the progress, and feeds the converter.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from airspace.downloader.address_guard import AddressGuard
from airspace.downloader.child_processes import child_context, started_as_child
from airspace.downloader.errors import DownloadError, FetchError
from airspace.downloader.fetching import fetch_segment
from airspace.downloader.hls import Segment
from airspace.downloader.net import Http, HttpOptions
from airspace.downloader.parts import Part, PartsCache


@dataclass(frozen=True)
class Fetched:
    """A segment a worker stored (``part``), or could not fetch (``failure``)."""

    index: int
    part: Part | None
    samples: int
    sample_rate: int
    channels: int
    size: int
    failure: str | None = None


# Results travel in batches of plain tuples (index, offset, length, samples, rate,
# channels, size, failure): one pipe write per batch instead of one per segment.
_Result = tuple[int, int, int, int, int, int, int, "str | None"]
BATCH_SEGMENTS = 32
BATCH_SECONDS = 0.02


@dataclass(frozen=True)
class FetchSettings:
    """How every worker fetches."""

    headers: dict[str, str]
    retries: int
    concurrency: int
    """Segments fetched at once, over all workers."""
    http: HttpOptions
    guard: AddressGuard | None
    directory: Path
    """The parts cache."""
    identity: str


@dataclass(frozen=True)
class WorkerJob:
    """What one worker fetches: the segments not claimed yet by the time it gets to
    them, into a parts stream of its own."""

    segments: tuple[tuple[int, Segment], ...]
    settings: FetchSettings
    concurrency: int
    stream: int


class Claims:
    """The next segment nobody has claimed yet: a counter shared by the workers."""

    def __init__(self, counter: Any, total: int) -> None:
        self._counter = counter
        self._total = total

    def next(self) -> int | None:
        """A position in the job's segments that is this worker's alone; None at the end."""
        with self._counter.get_lock():
            position = int(self._counter.value)
            if position >= self._total:
                return None
            self._counter.value = position + 1
        return position


def _worker_main(job: WorkerJob, claims: Claims, connection: Connection) -> None:
    started_as_child()
    try:
        asyncio.run(_fetch_claimed(job, claims, connection))
    except DownloadError as exc:  # e.g. a segment over the size cap: keeps its exit code
        connection.send(("fatal", exc))
    except Exception as exc:
        connection.send(("fatal", DownloadError(f"{type(exc).__name__}: {exc}")))
    else:
        connection.send(("done", None))
    finally:
        connection.close()


async def _fetch_claimed(job: WorkerJob, claims: Claims, connection: Connection) -> None:
    settings = job.settings
    cache = PartsCache(settings.directory, settings.identity, stream=job.stream)
    connection.send(("file", cache.data_path))
    loop = asyncio.get_running_loop()
    stored: list[tuple[int, Part]] = []
    results: list[_Result] = []
    timer: asyncio.TimerHandle | None = None

    def flush() -> None:
        """List the stored parts in the cache, then tell the parent about them."""
        nonlocal timer
        timer = None
        if stored:
            cache.list(stored)
            stored.clear()
        if results:
            connection.send(("segments", results.copy()))
            results.clear()

    def done(result: _Result, part: tuple[int, Part] | None) -> None:
        nonlocal timer
        if part is not None:
            stored.append(part)
        results.append(result)
        if len(results) >= BATCH_SEGMENTS:
            flush()
        elif timer is None:
            timer = loop.call_later(BATCH_SECONDS, flush)

    try:
        async with Http(settings.http, settings.guard) as http:

            async def fetch_claimed() -> None:
                """One of the worker's concurrent fetches: claimed segments, one by one."""
                while (position := claims.next()) is not None:
                    index, segment = job.segments[position]
                    try:
                        audio, size = await fetch_segment(
                            http, segment, settings.headers, settings.retries
                        )
                    except FetchError as exc:
                        done((index, 0, 0, 0, 0, 0, 0, exc.message), None)
                        continue
                    part = cache.write_unlisted(audio.to_bytes())
                    result = (
                        index,
                        part.offset,
                        part.length,
                        audio.samples,
                        audio.sample_rate,
                        audio.channels,
                        size,
                        None,
                    )
                    done(result, (segment.sequence, part))

            await asyncio.gather(*(fetch_claimed() for _ in range(job.concurrency)))
        flush()
    finally:
        if timer is not None:
            timer.cancel()
        cache.close()


class FetchWorkers:
    """Worker processes sharing the segments out between them; ``on_segment`` is
    called on the event loop for every segment, in the order they finish."""

    def __init__(
        self,
        segments: Sequence[tuple[int, Segment]],
        workers: int,
        settings: FetchSettings,
        on_segment: Callable[[Fetched], None],
    ) -> None:
        self.on_segment = on_segment
        self._loop = asyncio.get_running_loop()
        self._finished: asyncio.Future[None] = self._loop.create_future()
        self._running = 0
        self._processes: list[BaseProcess] = []
        self._connections: list[Connection] = []
        self._files: dict[int, str] = {}  # each worker's data file, by its pipe
        try:
            self._start(segments, workers, settings)
        except BaseException:
            self.stop()  # the workers already started
            raise
        if not self._running:
            self._finished.set_result(None)

    def _start(
        self, segments: Sequence[tuple[int, Segment]], workers: int, settings: FetchSettings
    ) -> None:
        context = child_context()
        workers = min(workers, len(segments))
        concurrency = max(1, settings.concurrency // max(1, workers))
        # Kept for as long as the workers run: freed, its memory would be handed out again.
        self._claims = claims = Claims(context.Value("q", 0), len(segments))
        everything = tuple(segments)
        for stream in range(1, workers + 1):
            job = WorkerJob(everything, settings, concurrency, stream)
            parent_end, child_end = context.Pipe(duplex=False)
            process = context.Process(
                target=_worker_main,
                args=(job, claims, child_end),
                name="airspace-fetch",
                daemon=True,
            )
            process.start()
            child_end.close()
            self._processes.append(process)
            self._connections.append(parent_end)
            self._loop.add_reader(parent_end.fileno(), self._drain, parent_end)
            self._running += 1

    def _drain(self, connection: Connection) -> None:
        try:
            while connection.poll():
                kind, value = connection.recv()
                if kind == "segments":
                    file = self._files[connection.fileno()]
                    for index, offset, length, samples, rate, channels, size, failure in value:
                        part = Part(file, offset, length) if failure is None else None
                        self.on_segment(
                            Fetched(index, part, samples, rate, channels, size, failure)
                        )
                elif kind == "file":
                    self._files[connection.fileno()] = value
                elif kind == "fatal":
                    self._fail(value)
                    return
                else:
                    self._close(connection)
                    return
        except EOFError:  # the pipe closed before "done": the worker died
            self._fail(FetchError("a fetching process stopped unexpectedly"))
        except BaseException as exc:  # raised by on_segment: the download stops
            self._fail(exc)

    def _close(self, connection: Connection) -> None:
        self._loop.remove_reader(connection.fileno())
        self._running -= 1
        if self._running == 0 and not self._finished.done():
            self._finished.set_result(None)

    def _fail(self, error: BaseException) -> None:
        if not self._finished.done():
            self._finished.set_exception(error)
        self.stop()

    async def wait(self) -> None:
        """Until every worker is done; raises what stopped the download."""
        await self._finished
        for process in self._processes:
            await asyncio.to_thread(process.join, 10)
        self.stop()

    def stop(self) -> None:
        for connection in self._connections:
            with contextlib.suppress(OSError, ValueError):
                self._loop.remove_reader(connection.fileno())
                connection.close()
        for process in self._processes:
            if process.is_alive():
                process.kill()
        self._connections.clear()
