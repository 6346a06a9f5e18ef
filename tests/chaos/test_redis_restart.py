"""Redis killed and started again under a live recorded Space held by one of two nodes:
what needs Redis (sign-in's rate limits, room commands relayed between the nodes)
answers 503 with a JSON reason meanwhile, never 500, while the rest of the API and the
live program go on; afterwards sign-in, rate limits, the relay, the room's events and the
announcement of revoked media work again, the Space ends through the other node, and its
recording is whole."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest

from airspace.accounts.throttle import FAILED_LOGINS_PER_ACCOUNT
from airspace.app import GENERATIONS_RELOAD_SECONDS
from airspace.media.peer import tone
from airspace.media.room_speaker import RoomSpeaker
from tests.chaos.rig import (
    PASSWORD,
    REDIS_SERVER,
    LiveTime,
    RedisNodes,
    RedisServer,
    available_recording,
    end_space,
    live_edge,
    redis_nodes,
    redis_server,
    replay_playlist,
    signed_in,
    speaking_with_a_listener,
    start_recorded_space,
    tails,
    unhandled_failures,
    until,
    wrong_outage_answers,
)
from tests.live.test_speakers import EventLog

pytestmark = pytest.mark.skipif(not REDIS_SERVER.exists(), reason=f"no {REDIS_SERVER}")
OUTAGE_SECONDS = 5.0
REVOCATION_SECONDS = GENERATIONS_RELOAD_SECONDS / 6
"""Well before a node rereads revocations from the database: they were announced."""
PITCH = 660.0


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with redis_server(tmp_path) as running:
        yield running


@pytest.fixture
def rig(tmp_path: Path, redis: RedisServer) -> Iterator[RedisNodes]:
    with redis_nodes(tmp_path, redis.url, ("node-a", "node-b"), worker=True) as started:
        yield started


async def log_in(base: str, username: str, password: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        return await http.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )


async def register(base: str, username: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        return await http.post(
            "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
        )


def test_a_live_space_outlasts_a_redis_restart(rig: RedisNodes, redis: RedisServer) -> None:
    a, b = rig.nodes["node-a"], rig.nodes["node-b"]

    async def scenario() -> None:
        times = LiveTime()
        on_a = await signed_in(a.base, "host")
        on_b = httpx.AsyncClient(
            base_url=b.base, timeout=30, headers=on_a.headers, follow_redirects=True
        )
        async with on_a, on_b:
            space_id = await start_recorded_space(on_a, "Restart", times)  # its room is on A
            speaker = RoomSpeaker(on_a, space_id, "host", tone(PITCH))
            talking = asyncio.create_task(speaker.run())
            granted, edge_before = await speaking_with_a_listener(on_a, space_id, speaker, rig.logs)

            redis.kill()
            killed_at = time.monotonic()
            needing_redis: list[tuple[str, httpx.Response]] = []
            while time.monotonic() - killed_at < OUTAGE_SECONDS:
                login, sign_up, relayed, read = await asyncio.gather(
                    log_in(a.base, "host", PASSWORD),
                    register(b.base, f"newcomer{len(needing_redis)}"),
                    on_b.get(f"/api/v1/spaces/{space_id}/room"),
                    on_b.get(f"/api/v1/spaces/{space_id}"),
                )
                needing_redis += [
                    ("log-in on A", login),
                    ("sign-up on B", sign_up),
                    ("room state through B", relayed),
                ]
                assert read.status_code == 200, read.text  # the database alone answers it
                live = await on_a.get(granted)
                assert live.status_code == 200, live.text
            edge_during = live_edge(live.text)
            redis.start()

            wrong = wrong_outage_answers(needing_redis)
            assert not wrong, f"not outage answers:\n{wrong}"
            assert edge_during >= edge_before + 2, (
                f"the live program stopped: {edge_before} {edge_during}"
            )

            async def signing_in() -> bool:
                return (await log_in(b.base, "host", PASSWORD)).status_code == 200

            async def relaying() -> bool:
                return (await on_b.get(f"/api/v1/spaces/{space_id}/room")).status_code == 200

            await until(signing_in, 10, "sign-in works again", rig.logs)
            await until(relaying, 10, "room commands reach A through B again", rig.logs)
            events = b.base.replace("http", "ws") + f"/api/v1/spaces/{space_id}/room/events"
            async with EventLog(events) as log:
                assert log.events[0]["type"] == "state"
                await end_space(on_b, space_id, times)  # relayed to A
                await log.wait_for("ended")
            await asyncio.wait_for(talking, 20)

            recording = await available_recording(on_a, space_id, rig.logs)
            replay = await replay_playlist(on_b, space_id)
            # Deleting the recording on A revokes the links B handed out, at once: the
            # announcement reaches B through the restarted Redis.
            first_segment = urljoin(replay.url, "live/000000.ts")
            assert (await on_b.get(first_segment)).status_code == 200
            assert (await on_a.delete(f"/api/v1/spaces/{space_id}/recording")).status_code == 204

            async def revoked() -> bool:
                return (await on_b.get(first_segment)).status_code in (403, 410)

            await until(revoked, REVOCATION_SECONDS, "B refuses revoked links", rig.logs)

        duration = float(str(recording["duration_seconds"]))
        assert times.shortest - 0.5 <= duration <= times.longest + 0.5, (duration, times)
        numbers = replay.segment_numbers
        assert numbers == list(range(len(numbers))), numbers
        assert replay.discontinuities == 0
        assert replay.seconds == pytest.approx(duration, abs=0.01)

        # Rate limits count again, across both nodes, in the restarted Redis.
        for attempt in range(FAILED_LOGINS_PER_ACCOUNT.count):
            node = (a, b)[attempt % 2]
            assert (await log_in(node.base, "host", "wrong password")).status_code == 401
        for node in (a, b):
            refused = await log_in(node.base, "host", PASSWORD)
            assert refused.status_code == 429, refused.text
            assert int(refused.headers["retry-after"]) > 0

    try:
        asyncio.run(scenario())
    except AssertionError as error:
        raise AssertionError(f"{error}\n{tails(rig.logs)}") from error
    for node in (a, b):
        assert node.process is not None
        assert node.process.poll() is None, f"{node.name} died"
    assert unhandled_failures(rig.logs) == []
