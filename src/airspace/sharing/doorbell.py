"""The doorbell: tells a user's open pages that a notification arrived, so the bell
updates at once instead of at the next poll.

A ring carries no data: the page's stream reads the notifications from the database.
Rings are sent after the transaction that stored the notifications commits (see
``ring_after_commit``), from whatever thread or process committed it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import redis
import redis.asyncio as aioredis
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

logger = logging.getLogger(__name__)

PENDING_RINGS = "airspace.rings"
"""Where a session keeps the user ids to ring once it commits."""


class Ringing(Protocol):
    async def wait(self, timeout: float) -> bool:
        """True when the bell rang within ``timeout`` seconds, False otherwise."""
        ...


class Doorbell(Protocol):
    def ring(self, user_ids: Iterable[int]) -> None:
        """Wake every open stream of these users. Safe from any thread; never raises."""
        ...

    def listen(self, user_id: int) -> AbstractAsyncContextManager[Ringing]:
        """Hear the rings for ``user_id`` while the context is open."""
        ...

    def close(self) -> None: ...


class _QueueRinging:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[None] = asyncio.Queue(maxsize=1)

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return False
        return True

    def wake(self) -> None:
        if not self.queue.full():
            self.queue.put_nowait(None)


class LocalDoorbell:
    """Rings within one process: streams and the code that notifies share a process (the
    embedded default, where background jobs run inside the server)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._listeners: dict[int, set[_QueueRinging]] = {}

    def ring(self, user_ids: Iterable[int]) -> None:
        loop, ids = self._loop, list(user_ids)
        if loop is None or loop.is_closed() or not ids:
            return  # nobody has ever listened: nobody to wake
        loop.call_soon_threadsafe(self._wake, ids)

    def _wake(self, user_ids: list[int]) -> None:
        for user_id in user_ids:
            for listener in self._listeners.get(user_id, ()):
                listener.wake()

    @asynccontextmanager
    async def listen(self, user_id: int) -> AsyncIterator[Ringing]:
        self._loop = asyncio.get_running_loop()
        listener = _QueueRinging()
        self._listeners.setdefault(user_id, set()).add(listener)
        try:
            yield listener
        finally:
            listeners = self._listeners.get(user_id, set())
            listeners.discard(listener)
            if not listeners:
                self._listeners.pop(user_id, None)

    def close(self) -> None:
        self._listeners.clear()


class _RedisRinging:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def wait(self, timeout: float) -> bool:
        message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
        return message is not None


class RedisDoorbell:
    """Rings across processes and machines: a job on a worker notifies, the page's stream
    on any API node hears it."""

    PREFIX = "airspace:user:"

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=2)

    def ring(self, user_ids: Iterable[int]) -> None:
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for user_id in set(user_ids):
                    pipe.publish(f"{self.PREFIX}{user_id}", "1")
                pipe.execute()
        except redis.RedisError as error:  # the stream's periodic re-read covers the loss
            logger.warning("could not ring the doorbell: %s", error)

    @asynccontextmanager
    async def listen(self, user_id: int) -> AsyncIterator[Ringing]:
        client = aioredis.from_url(self.url)
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(f"{self.PREFIX}{user_id}")
            yield _RedisRinging(pubsub)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await client.aclose()

    def close(self) -> None:
        self.client.close()


def ring_later(session: Session, user_ids: Iterable[int]) -> None:
    """Ring these users once ``session`` commits."""
    session.info.setdefault(PENDING_RINGS, set()).update(user_ids)


def ring_after_commit(sessions: sessionmaker[Session], doorbell: Doorbell) -> None:
    """Make every session from ``sessions`` ring, after it commits, the users its
    transaction notified (and forget them if it rolls back)."""

    def committed(session: Session) -> None:
        pending = session.info.pop(PENDING_RINGS, None)
        if pending:
            doorbell.ring(pending)

    def rolled_back(session: Session, previous: SessionTransaction) -> None:
        session.info.pop(PENDING_RINGS, None)

    event.listen(sessions, "after_commit", committed)
    event.listen(sessions, "after_soft_rollback", rolled_back)
