"""Rooms spread over worker processes, one per core: each worker runs the aiortc engine
on its own event loop, so one machine's speaker legs are not bound to one core.

The server process keeps the room rules, the recorder and the API; it sends a worker
commands (open a room, answer an offer, mute, remove, close) over a pipe, and the
worker sends back each room's program frames and its activity events.
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
from airspace.media.speaker_tracks import TrackPart

logger = logging.getLogger(__name__)

Message = tuple[Any, ...]
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
        self._queue: queue.SimpleQueue[Message | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="media-outbox", daemon=True)
        self._thread.start()

    def send(self, message: Message) -> None:
        self._queue.put(message)

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

    def _send(self, batch: list[Message]) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(batch[0] if len(batch) == 1 else ("batch", batch))


class _Relay:
    """RoomCallbacks inside a worker: everything goes back to the server process."""

    def __init__(self, room: str, outbox: _Outbox) -> None:
        self.room = room
        self.outbox = outbox

    def program(self, frame: np.ndarray) -> None:
        self.outbox.send(("program", self.room, frame.astype(np.float32).tobytes()))

    def activity(self, change: ActivityChange) -> None:
        self.outbox.send(("activity", self.room, change.speaker, change.speaking, change.at))

    def link_quality(self, speaker: str, quality: LinkQuality) -> None:
        self.outbox.send(("link", self.room, speaker, quality))

    def speaker_track(self, part: TrackPart) -> None:
        self.outbox.send(("track", self.room, part))

    def speaker_lost(self, speaker: str) -> None:
        self.outbox.send(("lost", self.room, speaker))

    def failed(self, error: BaseException) -> None:
        self.outbox.send(("failed", self.room, f"{type(error).__name__}: {error}"))


def _worker(
    conn: Connection,
    speaker_timeout: float,
    receive_buffer_packets: int,
    address: str | None,
    ice: IceSettings,
) -> None:
    asyncio.run(_serve(conn, speaker_timeout, receive_buffer_packets, address, ice))


async def _serve(
    conn: Connection,
    speaker_timeout: float,
    receive_buffer_packets: int,
    address: str | None,
    ice: IceSettings,
) -> None:
    from airspace.media.aiortc_engine import AiortcMediaEngine

    engine = AiortcMediaEngine(speaker_timeout, receive_buffer_packets, address, ice)
    outbox = _Outbox(conn)
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[Message | None] = asyncio.Queue()

    def readable() -> None:
        try:
            inbox.put_nowait(conn.recv())
        except (EOFError, OSError):
            inbox.put_nowait(None)

    watch_messages(loop, conn, readable)
    running: set[asyncio.Task[None]] = set()
    while (message := await inbox.get()) is not None and message[0] != "shutdown":
        task = asyncio.create_task(_handle(engine, outbox, message))
        running.add(task)
        task.add_done_callback(running.discard)
    loop.remove_reader(conn.fileno())
    await engine.close()
    outbox.close()


async def _handle(engine: Any, outbox: _Outbox, message: Message) -> None:
    kind, request, room, *rest = message
    try:
        if kind == "open":
            result: Any = await engine.open_room(room, _Relay(room, outbox), *rest)
        elif kind == "add":
            result = await engine.add_speaker(room, *rest)
        elif kind == "remove":
            result = await engine.remove_speaker(room, *rest)
        elif kind == "mute":
            result = await engine.set_muted(room, *rest)
        elif kind == "close":
            result = await engine.close_room(room)
        else:
            raise ValueError(f"unknown command {kind!r}")
        outbox.send(("reply", request, True, result))
    except InvalidOffer as error:
        outbox.send(("reply", request, False, ("offer", error.detail)))
    except MediaOverloaded as error:
        outbox.send(("reply", request, False, ("overloaded", error.detail)))
    except Exception as error:
        outbox.send(("reply", request, False, ("error", f"{type(error).__name__}: {error}")))


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
    ) -> None:
        self.size = workers
        self.speaker_timeout = speaker_timeout
        self.receive_buffer_packets = receive_buffer_packets
        self.media_address = media_address
        self.ice = ice or IceSettings()
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
                args=(
                    theirs,
                    self.speaker_timeout,
                    self.receive_buffer_packets,
                    self.media_address,
                    self.ice,
                ),
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
            message = worker.conn.recv()
        except (EOFError, OSError):
            self._lost_worker(worker)
            return
        for each in message[1] if message[0] == "batch" else [message]:
            self._dispatch(each)

    def _dispatch(self, message: Message) -> None:
        kind = message[0]
        if kind == "reply":
            _, request, ok, result = message
            future = self._replies.pop(request, None)
            if future is not None and not future.done():
                if ok:
                    future.set_result(result)
                elif result[0] == "offer":
                    future.set_exception(InvalidOffer(result[1]))
                elif result[0] == "overloaded":
                    future.set_exception(MediaOverloaded(result[1]))
                else:
                    future.set_exception(RuntimeError(result[1]))
            return
        callbacks = self._callbacks.get(message[1])
        if callbacks is None:
            return
        if kind == "program":
            callbacks.program(np.frombuffer(message[2], dtype=np.float32))
        elif kind == "activity":
            callbacks.activity(ActivityChange(message[2], message[3], message[4]))
        elif kind == "link":
            callbacks.link_quality(message[2], message[3])
        elif kind == "track":
            callbacks.speaker_track(message[2])
        elif kind == "lost":
            self._connected.get(message[1], set()).discard(message[2])
            callbacks.speaker_lost(message[2])
        elif kind == "failed":
            callbacks.failed(RuntimeError(message[2]))

    def _lost_worker(self, worker: _Worker) -> None:
        asyncio.get_running_loop().remove_reader(worker.conn.fileno())
        if worker in self._workers:
            self._workers.remove(worker)
        for room in list(worker.rooms):
            callbacks = self._callbacks.get(room)
            if callbacks is not None:
                callbacks.failed(RuntimeError("the media worker process stopped"))

    async def _call(self, worker: _Worker, *command: Any) -> Any:
        request = next(self._requests)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._replies[request] = future
        worker.conn.send((command[0], request, *command[1:]))
        return await future

    async def open_room(self, room: str, callbacks: RoomCallbacks, tracks: bool = False) -> None:
        if not self._workers:
            self._start()
        if room in self._placement:
            raise ValueError(f"room {room!r} is already open")
        worker = min(self._workers, key=lambda w: len(w.rooms))
        worker.rooms.add(room)
        self._placement[room] = worker
        self._callbacks[room] = callbacks
        self._connected[room] = set()
        await self._call(worker, "open", room, tracks)

    def _worker_of(self, room: str) -> _Worker:
        try:
            return self._placement[room]
        except KeyError:
            raise KeyError(f"no open room {room!r}") from None

    async def add_speaker(self, room: str, speaker: str, offer_sdp: str) -> str:
        answer: str = await self._call(self._worker_of(room), "add", room, speaker, offer_sdp)
        self._connected[room].add(speaker)
        return answer

    async def remove_speaker(self, room: str, speaker: str) -> None:
        if room in self._placement:
            await self._call(self._placement[room], "remove", room, speaker)
            self._connected[room].discard(speaker)

    async def set_muted(self, room: str, speaker: str, muted: bool) -> None:
        await self._call(self._worker_of(room), "mute", room, speaker, muted)

    def connected(self, room: str) -> set[str]:
        return set(self._connected.get(room, set()))

    async def close_room(self, room: str) -> None:
        worker = self._placement.pop(room, None)
        if worker is None:
            return
        with contextlib.suppress(RuntimeError, OSError):
            await self._call(worker, "close", room)
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
                worker.conn.send(("shutdown", 0, ""))
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                worker.process.kill()
        self._workers.clear()
