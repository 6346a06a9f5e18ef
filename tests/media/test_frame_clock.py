"""The stepped frame clock wakes each sleeper at its moment, in order, and only when
moved; the loop's clock is real time."""

from __future__ import annotations

import asyncio

from airspace.media.frame_clock import LoopFrameClock, SteppedFrameClock


def test_sleepers_wake_in_order_at_their_moments_only_when_time_moves() -> None:
    async def scenario() -> list[tuple[str, float]]:
        clock = SteppedFrameClock()
        woke: list[tuple[str, float]] = []

        async def sleeper(name: str, moment: float) -> None:
            await clock.sleep_until(moment)
            woke.append((name, clock.now()))

        tasks = [asyncio.create_task(sleeper(n, m)) for n, m in (("b", 0.04), ("a", 0.02))]
        await asyncio.sleep(0.05)  # real time passing moves nothing
        assert woke == []
        await clock.advance(0.03)
        assert woke == [("a", 0.02)]
        clock.spend(0.5)  # work that took clock time: due sleepers wake at the next advance
        assert clock.now() == 0.53
        await clock.advance(0)
        await asyncio.gather(*tasks)
        return woke

    assert asyncio.run(scenario()) == [("a", 0.02), ("b", 0.53)]


def test_the_loops_clock_is_real_time() -> None:
    async def scenario() -> float:
        clock = LoopFrameClock()
        started = clock.now()
        await clock.sleep_until(started + 0.05)
        return clock.now() - started

    assert asyncio.run(scenario()) >= 0.05
