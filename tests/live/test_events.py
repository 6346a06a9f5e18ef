from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from airspace.live.events import InProcessRoomEvents, RedisRoomEvents, RoomEvents
from tests.conftest import REDIS_URL

Factory = Callable[[], RoomEvents]


def run_with_events(kind: str, scenario: Callable[[Factory], Awaitable[None]]) -> None:
    """Run ``scenario`` with a factory of event buses of ``kind``, closing them after."""

    async def main() -> None:
        created: list[RoomEvents] = []
        shared = InProcessRoomEvents()

        def factory() -> RoomEvents:
            # Redis: each call is a separate client with its own connections, as on
            # separate API nodes. In process there is one bus per process.
            events: RoomEvents = RedisRoomEvents(REDIS_URL) if kind == "redis" else shared
            created.append(events)
            return events

        try:
            await scenario(factory)
        finally:
            for events in created:
                await events.close()

    asyncio.run(main())


@pytest.fixture(params=["in-process", "redis"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_two_subscribers_on_separate_connections_receive_an_event(kind: str) -> None:
    async def scenario(make_events: Factory) -> None:
        publisher, first, second = make_events(), make_events(), make_events()
        async with first.subscribe("room-1") as a, second.subscribe("room-1") as b:
            await publisher.publish("room-1", {"type": "joined", "user": "ada"})
            assert await a.get(timeout=5) == {"type": "joined", "user": "ada"}
            assert await b.get(timeout=5) == {"type": "joined", "user": "ada"}

    run_with_events(kind, scenario)


def test_channels_are_separate(kind: str) -> None:
    async def scenario(make_events: Factory) -> None:
        events = make_events()
        async with events.subscribe("room-1") as one, events.subscribe("room-2") as two:
            await events.publish("room-2", {"type": "ended"})
            assert await two.get(timeout=5) == {"type": "ended"}
            with pytest.raises(TimeoutError):
                await one.get(timeout=0.2)

    run_with_events(kind, scenario)
