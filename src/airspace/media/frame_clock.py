"""The clock a room's 20 ms ticks run on: the event loop's, or one that tests step.

A room asks the time and sleeps until its next tick; on the event loop's clock that is
real time, and on a ``SteppedFrameClock`` time moves only when ``advance`` moves it, so
a test runs a minute of a room in a moment, or makes a tick cost more than its 20 ms
without sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from typing import Protocol


class FrameClock(Protocol):
    def now(self) -> float:
        """Seconds, from any fixed origin."""
        ...

    async def sleep_until(self, moment: float) -> None:
        """Return once ``now()`` has reached ``moment`` (at once if it has)."""
        ...


class LoopFrameClock:
    """The running event loop's monotonic clock: real time."""

    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep_until(self, moment: float) -> None:
        await asyncio.sleep(moment - self.now())


class SteppedFrameClock:
    """Time that stands still until ``advance`` (or ``spend``) moves it."""

    def __init__(self) -> None:
        self._now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep_until(self, moment: float) -> None:
        """Wait for the next ``advance`` that reaches ``moment`` (even one already past:
        time moves only when the test moves it)."""
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (moment, next(self._order), woken))
        await woken

    def spend(self, seconds: float) -> None:
        """Time passes while the caller works (a tick that costs ``seconds``); sleepers
        are woken by the next ``advance``."""
        self._now += seconds

    async def advance(self, seconds: float) -> None:
        """Move time on by ``seconds``, waking each sleeper at its moment, in order, and
        letting it run until it sleeps again."""
        until = self._now + seconds
        await _let_others_run()  # a room opened just now starts its clock first
        while self._sleepers and self._sleepers[0][0] <= until:
            moment, _, woken = heapq.heappop(self._sleepers)
            self._now = max(self._now, moment)
            if not woken.done():
                woken.set_result(None)
            await _let_others_run()  # the woken task runs up to its next sleep
        self._now = max(self._now, until)


async def _let_others_run() -> None:
    for _ in range(3):
        await asyncio.sleep(0)
