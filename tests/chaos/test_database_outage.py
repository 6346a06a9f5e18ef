"""PostgreSQL gone for 5 s under a live recorded Space: the API answers 503 with a JSON
reason meanwhile (never 500), listeners keep the live program, and once the database is
back the Space ends as usual with a recording as long as the Space, no segment missing.

The database is taken away by a TCP proxy between ``airspace serve`` and PostgreSQL:
every connection dropped and new ones refused, as when the database server goes down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import numpy as np
import pytest

from airspace.media.peer import tone
from airspace.media.room_speaker import RoomSpeaker
from tests.audio import band_share, decode
from tests.chaos.proxy import TcpProxy
from tests.chaos.rig import (
    LiveTime,
    ReplayPlaylist,
    available_recording,
    database_schema,
    end_space,
    live_edge,
    migrate,
    node,
    replay_playlist,
    schema_url,
    server_env,
    signed_in,
    speaking_with_a_listener,
    start_recorded_space,
    tails,
    unhandled_failures,
    until,
    wrong_outage_answers,
)
from tests.e2e.cluster import Node

OUTAGE_SECONDS = 5.0
PITCH = 660.0
POSTGRES_PORT = 5432


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    with TcpProxy(POSTGRES_PORT) as forwarding:
        yield forwarding


@pytest.fixture
def server(tmp_path: Path, proxy: TcpProxy) -> Iterator[Node]:
    """One ``airspace serve`` whose database connections all pass through ``proxy``."""
    with database_schema() as schema:
        migrate(server_env(tmp_path / "migrate", schema_url(schema)))
        serving = node(
            tmp_path, "server", server_env(tmp_path / "data", schema_url(schema, proxy.port))
        )
        serving.start()
        try:
            yield serving
        finally:
            serving.stop()


async def outage_answers(
    http: httpx.AsyncClient, space_id: str
) -> list[tuple[str, httpx.Response]]:
    """What the API answers to a reader, a signed-in user, a writer and a new listener:
    each needs the database."""
    requests = (
        ("GET", f"/api/v1/spaces/{space_id}", None),
        ("GET", "/api/v1/me", None),
        ("POST", "/api/v1/spaces", {"title": "During the outage"}),
        ("GET", f"/i/spaces/{space_id}/live.m3u8", None),
    )
    return [
        (f"{method} {path}", await http.request(method, path, json=body))
        for method, path, body in requests
    ]


def test_a_live_space_outlasts_five_seconds_without_its_database(
    server: Node, proxy: TcpProxy
) -> None:
    logs = [server.log]

    async def scenario() -> None:
        times = LiveTime()
        host = await signed_in(server.base, "host")
        async with host:
            space_id = await start_recorded_space(host, "Outage", times)
            speaker = RoomSpeaker(host, space_id, "host", tone(PITCH))
            talking = asyncio.create_task(speaker.run())
            # A listener holds a grant to the live playlist before the outage.
            granted, edge_before = await speaking_with_a_listener(host, space_id, speaker, logs)
            # On the recording's clock, when the microphone was connected at the latest
            # (the listener's 2 s ago), plus a moment for the media to flow.
            heard_from = time.monotonic() - times.before_start - 1.0

            proxy.cut()
            cut_at = time.monotonic()
            answers: list[tuple[str, httpx.Response]] = []
            edges: list[int] = []
            while time.monotonic() - cut_at < OUTAGE_SECONDS:
                answers += await outage_answers(host, space_id)
                live = await host.get(granted)
                assert live.status_code == 200, live.text  # served from the room's memory
                edges.append(live_edge(live.text))
                await asyncio.sleep(0.5)
            proxy.restore()

            wrong = wrong_outage_answers(answers)
            assert not wrong, f"not outage answers:\n{wrong}"
            assert edges[-1] >= edge_before + 2, f"the live program stopped: {edge_before} {edges}"

            async def answering() -> bool:
                return (await host.get(f"/api/v1/spaces/{space_id}")).status_code == 200

            await until(answering, 10, "the API answers again", logs)
            space = (await host.get(f"/api/v1/spaces/{space_id}")).json()
            assert space["state"] == "live", space
            await asyncio.sleep(2)
            await end_space(host, space_id, times)
            await asyncio.wait_for(talking, 20)

            recording = await available_recording(host, space_id, logs)
            replay = await replay_playlist(host, space_id)
            program = await replay_audio(host, replay)

        duration = float(str(recording["duration_seconds"]))
        assert times.shortest - 0.5 <= duration <= times.longest + 0.5, (duration, times)
        numbers = replay.segment_numbers
        assert numbers == list(range(len(numbers))), numbers
        assert replay.discontinuities == 0
        assert replay.seconds == pytest.approx(duration, abs=0.01)
        # The speaker is heard from the moment they connected to the end, the outage included.
        seconds = len(program) / 48_000
        assert seconds == pytest.approx(duration, abs=0.05)
        for start in np.arange(heard_from, seconds - 1.0, 1.0):
            second = program[int(start * 48_000) : int((start + 1) * 48_000)]
            assert band_share(second, PITCH) > 0.2, f"no tone at {start:.0f} s"

    try:
        asyncio.run(scenario())
    except AssertionError as error:
        raise AssertionError(f"{error}\n{tails(logs)}") from error
    assert server.process is not None
    assert server.process.poll() is None, "the server died"
    assert unhandled_failures(logs) == []


async def replay_audio(http: httpx.AsyncClient, replay: ReplayPlaylist) -> np.ndarray:
    """Every segment of a replay playlist, decoded and joined."""
    blocks = []
    for uri in replay.text.splitlines():
        if uri and not uri.startswith("#"):
            segment = await http.get(urljoin(replay.url, uri))
            assert segment.status_code == 200, segment.text
            blocks.append(decode(segment.content, format="mpegts")[0])
    return np.concatenate(blocks)
