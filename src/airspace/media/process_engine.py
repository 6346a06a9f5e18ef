"""Rooms spread over worker processes, one per core: each worker runs the aiortc engine
on its own event loop, so one machine's speaker legs are not bound to one core.

The server process keeps the room rules, the recording's rows and the API; it sends a
worker commands (open a room, answer an offer, mute, remove, close) over a pipe. The
worker mixes each room, encodes its program, cuts it into segments and stores them
with the speaker tracks, and sends back what it stored (the segment, its bytes for the
live edge, the playlist), activity events and link quality: the messages of
``airspace.media.worker_messages``. The program itself never crosses the pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import os
import queue
import threading
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np

from airspace.media.activity import ActivityChange
from airspace.media.engine import InvalidOffer, MediaOverloaded, RoomCallbacks
from airspace.media.ice import IceSettings
from airspace.media.link_quality import LinkQuality
from airspace.media.program_recorder import SegmentPlan, SegmentStored
from airspace.media.speaker_tracks import TrackPart
from airspace.media.worker_messages import (
    Activity,
    AddSpeaker,
    Batch,
    CloseRoom,
    Command,
    Event,
    Link,
    OpenRoom,
    ProgramFrame,
    RemoveSpeaker,
    Reply,
    RoomFailed,
    SetMuted,
    Shutdown,
    SpeakerLost,
    Stored,
    Track,
)

logger = logging.getLogger(__name__)

MAX_BATCH = 64


def watch_messages(
    loop: asyncio.AbstractEventLoop, conn: Connection, callback: Any, *args: Any
) -> None:
    """Call ``callback`` on the loop whenever ``conn`` has a message to read.

    The pipe stays blocking: ``conn.recv()`` reads a whole message, which its writer
    always sends at once. (uvloop makes a watched descriptor non-blocking, and a message
    half-arrived under load would then fail the read as if the other side had gone.)
    """
    loop.add_reader(conn.fileno(), callback, *args)
    os.set_blocking(conn.fileno(), True)


class _Outbox:
    """What a worker sends the server, written by a thread of its own: the worker's
    event loop (which carries the media) never waits on a full pipe while the server is
    busy, and whatever piled up meanwhile goes as one batch."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="media-outbox", daemon=True)
        self._thread.start()

    def send(self, event: Event) -> None:
        self._queue.put(event)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while (message := self._queue.get()) is not None:
            batch = [message]
            with contextlib.suppress(queue.Empty):
                while len(batch) < MAX_BATCH:
                    following = self._queue.get_nowait()
                    if following is None:
                        self._send(batch)
                        return
                    batch.append(following)
            self._send(batch)

    def _send(self, batch: list[Event]) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(batch[0] if len(batch) == 1 else Batch(batch))


class _Relay:
    """RoomCallbacks inside a worker: everything goes back to the server process."""

    def __init__(self, room: str, outbox: _Outbox) -> None:
        self.room = room
        self.outbox = outbox

    def program(self, frame: np.ndarray) -> None:
        self.outbox.send(ProgramFrame(self.room, frame.astype(np.float32).tobytes()))

    def segment_stored(self, stored: SegmentStored) -> None:
        self.outbox.send(Stored(self.room, stored))

    def activity(self, change: ActivityChange) -> None:
        self.outbox.send(Activity(self.room, change))

    def link_quality(self, speaker: str, quality: LinkQuality) -> None:
        self.outbox.send(Link(self.room, speaker, quality))

    def speaker_track(self, part: TrackPart) -> None:
        self.outbox.send(Track(self.room, part))

    def speaker_lost(self, speaker: str) -> None:
        self.outbox.send(SpeakerLost(self.room, speaker))

    def failed(self, error: BaseException) -> None:
        self.outbox.send(RoomFailed(self.room, f"{type(error).__name__}: {error}"))


@dataclass(frozen=True)
class WorkerSettings:
    """What a media worker is started with."""

    speaker_timeout: float
    receive_buffer_packets: int
    address: str | None
    ice: IceSettings
    storage_url: str | None
    """Where the worker stores its rooms' programs (the server's own storage)."""


def _worker(conn: Connection, settings: WorkerSettings) -> None:
    asyncio.run(_serve(conn, settings))


async def _serve(conn: Connection, settings: WorkerSettings) -> None:
    from airspace.media.aiortc_engine import AiortcMediaEngine
    from airspace.storage import create_storage

    engine = AiortcMediaEngine(
        settings.speaker_timeout,
        settings.receive_buffer_packets,
        settings.address,
        settings.ice,
        storage=create_storage(settings.storage_url) if settings.storage_url else None,
    )
    outbox = _Outbox(conn)
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Command | Shutdown | None] = asyncio.Queue()

    def readable() -> None:
        try:
            inbox.put_nowait(conn.recv())
        except (EOFError, OSError):
            inbox.put_nowait(None)

    watch_messages(loop, conn, readable)
    running: set[asyncio.Task[None]] = set()
    while (command := await inbox.get()) is not None and not isinstance(command, Shutdown):
        task = asyncio.create_task(_handle(engine, outbox, command))
        running.add(task)
        task.add_done_callback(running.discard)
    loop.remove_reader(conn.fileno())
    await engine.close()
    outbox.close()


async def _handle(engine: Any, outbox: _Outbox, command: Command) -> None:
    try:
        match command:
            case OpenRoom(_, room, tracks, segments):
                result: Any = await engine.open_room(room, _Relay(room, outbox), tracks, segments)
            case AddSpeaker(_, room, speaker, offer_sdp):
                result = await engine.add_speaker(room, speaker, offer_sdp)
            case RemoveSpeaker(_, room, speaker):
                result = await engine.remove_speaker(room, speaker)
            case SetMuted(_, room, speaker, muted):
                result = await engine.set_muted(room, speaker, muted)
            case CloseRoom(_, room, ended_at, abandon):
                result = await engine.close_room(room, ended_at, abandon)
        outbox.send(Reply(command.request, result))
    except InvalidOffer as error:
        outbox.send(Reply(command.request, refused="offer", detail=error.detail))
    except MediaOverloaded as error:
        outbox.send(Reply(command.request, refused="overloaded", detail=error.detail))
    except Exception as error:
        detail = f"{type(error).__name__}: {error}"
        outbox.send(Reply(command.request, refused="error", detail=detail))


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    rooms: set[str] = field(default_factory=set)


class ProcessMediaEngine:
    """The aiortc engine in ``workers`` processes; rooms go to the least busy one."""

    def __init__(
        self,
        workers: int,
        speaker_timeout: float = 10.0,
        receive_buffer_packets: int = 2,
        media_address: str | None = None,
        ice: IceSettings | None = None,
        storage_url: str | None = None,
    ) -> None:
        """``storage_url``: the storage rooms opened with a SegmentPlan store their
        program in (each worker opens it for itself)."""
        self.size = workers
        self.settings = WorkerSettings(
            speaker_timeout,
            receive_buffer_packets,
            media_address,
            ice or IceSettings(),
            storage_url,
        )
        self._workers: list[_Worker] = []
        self._callbacks: dict[str, RoomCallbacks] = {}
        self._placement: dict[str, _Worker] = {}
        self._connected: dict[str, set[str]] = {}
        self._replies: dict[int, asyncio.Future[Any]] = {}
        self._requests = itertools.count()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        loop = asyncio.get_running_loop()
        for number in range(self.size):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_worker,
                args=(theirs, self.settings),
                name=f"airspace-media-{number}",
                daemon=True,
            )
            process.start()
            theirs.close()
            worker = _Worker(process, ours)
            self._workers.append(worker)
            watch_messages(loop, ours, self._readable, worker)

    def _readable(self, worker: _Worker) -> None:
        try:
            message: Event | Batch = worker.conn.recv()
        except (EOFError, OSError):
            self._lost_worker(worker)
            return
        for event in message.events if isinstance(message, Batch) else [message]:
            self._dispatch(event)

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, Reply):
            self._answer(event)
            return
        callbacks = self._callbacks.get(event.room)
        if callbacks is None:
            return
        match event:
            case ProgramFrame(_, pcm):
                callbacks.program(np.frombuffer(pcm, dtype=np.float32))
            case Stored(_, stored):
                callbacks.segment_stored(stored)
            case Activity(_, change):
                callbacks.activity(change)
            case Link(_, speaker, quality):
                callbacks.link_quality(speaker, quality)
            case Track(_, part):
                callbacks.speaker_track(part)
            case SpeakerLost(room, speaker):
                self._connected.get(room, set()).discard(speaker)
                callbacks.speaker_lost(speaker)
            case RoomFailed(_, reason):
                callbacks.failed(RuntimeError(reason))

    def _answer(self, reply: Reply) -> None:
        future = self._replies.pop(reply.request, None)
        if future is None or future.done():
            return
        if reply.refused is None:
            future.set_result(reply.result)
        elif reply.refused == "offer":
            future.set_exception(InvalidOffer(reply.detail))
        elif reply.refused == "overloaded":
            future.set_exception(MediaOverloaded(reply.detail))
        else:
            future.set_exception(RuntimeError(reply.detail))

    def _lost_worker(self, worker: _Worker) -> None:
        asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        if worker in self._workers:
            self._workers.remove(worker)
        for room in list(worker.rooms):
            callbacks = self._callbacks.get(room)
            if callbacks is not None:
                callbacks.failed(RuntimeError("the media worker process stopped"))

    async def _call(self, worker: _Worker, command: Command) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[command.request] = future
        worker.conn.send(command)
        return await future

    async def start(self) -> None:
        """Start the worker processes (else the first room does)."""
        if not self._workers:
            self._start()

    def worker_processes(self) -> list[BaseProcess]:
        """The worker processes running now."""
        return [worker.process for worker in self._workers]

    async def open_room(
        self,
        room: str,
        callbacks: RoomCallbacks,
        tracks: bool = False,
        segments: SegmentPlan | None = None,
    ) -> int:
        await self.start()
        if room in self._placement:
            raise ValueError(f"room {room!r} is already open")
        worker = min(self._workers, key=lambda w: len(w.rooms))
        worker.rooms.add(room)
        self._placement[room] = worker
        self._callbacks[room] = callbacks
        self._connected[room] = set()
        room_start: int = await self._call(
            worker, OpenRoom(next(self._requests), room, tracks, segments)
        )
        return room_start

    def _worker_of(self, room: str) -> _Worker:
        try:
            return self._placement[room]
        except KeyError:
            raise KeyError(f"no open room {room!r}") from None

    async def add_speaker(self, room: str, speaker: str, offer_sdp: str) -> str:
        add = AddSpeaker(next(self._requests), room, speaker, offer_sdp)
        answer: str = await self._call(self._worker_of(room), add)
        self._connected[room].add(speaker)
        return answer

    async def remove_speaker(self, room: str, speaker: str) -> None:
        if room in self._placement:
            remove = RemoveSpeaker(next(self._requests), room, speaker)
            await self._call(self._placement[room], remove)
            self._connected[room].discard(speaker)

    async def set_muted(self, room: str, speaker: str, muted: bool) -> None:
        mute = SetMuted(next(self._requests), room, speaker, muted)
        await self._call(self._worker_of(room), mute)

    def connected(self, room: str) -> set[str]:
        return set(self._connected.get(room, set()))

    async def close_room(
        self, room: str, ended_at: float | None = None, abandon: bool = False
    ) -> None:
        worker = self._placement.pop(room, None)
        if worker is None:
            return
        with contextlib.suppress(RuntimeError, OSError):
            await self._call(worker, CloseRoom(next(self._requests), room, ended_at, abandon))
        worker.rooms.discard(room)
        self._callbacks.pop(room, None)
        self._connected.pop(room, None)

    async def close(self) -> None:
        for room in list(self._placement):
            await self.close_room(room)
        loop = asyncio.get_running_loop()
        for worker in self._workers:
            loop.remove_reader(worker.conn.fileno())
            with contextlib.suppress(OSError):
                worker.conn.send(Shutdown())
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
        self._workers.clear()
