"""The doorbell rings a user's open streams from any thread (local) or any process
(Redis), and only that user's."""

from __future__ import annotations

import asyncio
import threading

import pytest

from airspace.sharing.doorbell import Doorbell, LocalDoorbell, RedisDoorbell
from tests.conftest import REDIS_URL


@pytest.mark.parametrize("kind", ["local", "redis"])
def test_a_ring_wakes_the_user_it_is_for_and_nobody_else(kind: str) -> None:
    doorbell: Doorbell = LocalDoorbell() if kind == "local" else RedisDoorbell(REDIS_URL)

    async def scenario() -> tuple[bool, bool, bool]:
        async with doorbell.listen(1) as mine, doorbell.listen(2) as theirs:
            quiet = await mine.wait(0.2)
            # From another thread, as a request handler or a background job would.
            ringer = threading.Thread(target=doorbell.ring, args=([1],))
            ringer.start()
            rang = await mine.wait(5)
            ringer.join()
            other = await theirs.wait(0.3)
        return quiet, rang, other

    try:
        quiet, rang, other = asyncio.run(scenario())
    finally:
        doorbell.close()
    assert not quiet
    assert rang
    assert not other


def test_ringing_with_nobody_listening_does_nothing() -> None:
    LocalDoorbell().ring([1, 2])  # no loop yet: nothing to wake, and no error
    RedisDoorbell("redis://127.0.0.1:1/0").ring([1])  # Redis away: logged, not raised
