"""Room events: publish to a channel, every subscriber of that channel receives it.

In process by default; Redis pub/sub when API nodes are spread over machines.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, runtime_checkable

import redis.asyncio as aioredis

Event = dict[str, Any]
logger = logging.getLogger(__name__)


class Subscription(Protocol):
    async def get(self, timeout: float | None = None) -> Event:
        """The next event; raises TimeoutError after ``timeout`` seconds."""
        ...


@runtime_checkable
class RoomEvents(Protocol):
    async def publish(self, channel: str, event: Event) -> None:
        """Deliver ``event`` (JSON-serialisable) to every current subscriber of ``channel``."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """Receive events published to ``channel`` while the context is open."""
        ...

    async def close(self) -> None: ...


RESUBSCRIBE_SECONDS = 1.0
"""How long a follower waits before subscribing again after losing its channel."""


async def follow(events: RoomEvents, channel: str) -> AsyncIterator[Event]:
    """Every event on ``channel``, for as long as the caller reads: when the channel is
    lost (Redis restarting), subscribe again a moment later. Events published while it
    was away are missed; followers are those who can do without them."""
    while True:
        try:
            async with events.subscribe(channel) as subscription:
                while True:
                    yield await subscription.get()
        except (OSError, aioredis.RedisError) as error:
            logger.warning("lost the event channel %s (%s); subscribing again", channel, error)
            await asyncio.sleep(RESUBSCRIBE_SECONDS)


class _QueueSubscription:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)

    async def get(self, timeout: float | None = None) -> Event:
        return await asyncio.wait_for(self.queue.get(), timeout)


class InProcessRoomEvents:
    """Pub/sub between tasks of one process and one event loop."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[_QueueSubscription]] = {}

    async def publish(self, channel: str, event: Event) -> None:
        # A round-trip through JSON keeps both implementations to the same contract.
        payload = json.loads(json.dumps(event))
        for subscription in list(self._subscribers.get(channel, ())):
            if subscription.queue.full():
                subscription.queue.get_nowait()  # a stalled reader loses its oldest event
            subscription.queue.put_nowait(payload)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = _QueueSubscription()
        self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(channel, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(channel, None)

    async def close(self) -> None:
        self._subscribers.clear()


class _RedisSubscription:
    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub

    async def get(self, timeout: float | None = None) -> Event:
        async def next_message() -> Event:
            while True:
                message = await self.pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None and message["type"] == "message":
                    event: Event = json.loads(message["data"])
                    return event

        return await asyncio.wait_for(next_message(), timeout)


class RedisRoomEvents:
    """Pub/sub across processes and machines through Redis channels."""

    CHANNEL_PREFIX = "airspace:room:"

    def __init__(self, url: str) -> None:
        self.client = aioredis.from_url(url)

    async def publish(self, channel: str, event: Event) -> None:
        await self.client.publish(self.CHANNEL_PREFIX + channel, json.dumps(event))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        pubsub = self.client.pubsub()
        await pubsub.subscribe(self.CHANNEL_PREFIX + channel)
        try:
            yield _RedisSubscription(pubsub)
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        await self.client.aclose()
