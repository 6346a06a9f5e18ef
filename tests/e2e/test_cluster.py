"""Two nodes behind a round-robin balancer, one worker, PostgreSQL, Redis and S3: a Space
is served by either node, and it stays live through a restart of the other node, the
death of its own node (taken over) and a drain (handed over); a job whose worker was
killed runs again."""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest

from airspace.jobs.tasks import MISSED_BEATS
from airspace.media.peer import recording, tone
from airspace.media.room_speaker import RoomSpeaker
from tests.audio import band_share, speech
from tests.e2e.cluster import HEARTBEAT_SECONDS, NGINX, Cluster, cluster
from tests.live.test_speakers import EventLog, program_audio

pytestmark = pytest.mark.skipif(not NGINX.exists(), reason=f"nginx is not installed ({NGINX})")
PITCH = 660.0
PASSWORD = "a long and unusual passphrase"
SENTENCES = (
    "The weather station on the hill reports light rain this evening. "
    "Our guest tonight builds wooden boats by hand in a small harbour town. "
    "Listeners can ask questions at the end of the hour."
)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("cluster")) as started:
        yield started


async def signed_in(base: str, username: str) -> httpx.AsyncClient:
    """A client of ``base`` with an API token of a new account."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        reply = await http.post(
            "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
        )
        assert reply.status_code == 201, reply.text
        csrf = {"X-CSRF-Token": reply.json()["csrf_token"]}
        token = (await http.post("/api/v1/me/tokens", json={"name": "rig"}, headers=csrf)).json()
    return httpx.AsyncClient(
        base_url=base,
        timeout=30,
        follow_redirects=True,
        headers={"Authorization": f"Bearer {token['token']}"},
    )


async def wait(check: object, seconds: float, what: str, rig: Cluster) -> None:
    deadline = time.monotonic() + seconds
    while True:
        result = check() if callable(check) else check
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what}\n{rig.tail()}")
        await asyncio.sleep(0.2)


async def recording_when_available(
    http: httpx.AsyncClient, space_id: str, rig: Cluster
) -> dict[str, object]:
    recording: dict[str, object] = {}

    async def available() -> bool:
        nonlocal recording
        recording = (await http.get(f"/api/v1/spaces/{space_id}/recording")).json()
        return recording.get("state") == "available"

    await wait(available, 60, "the recording becomes available", rig)
    return recording


def live_seconds(space: dict[str, str]) -> float:
    started = datetime.fromisoformat(space["started_at"])
    ended = datetime.fromisoformat(space["ended_at"])
    return (ended - started).total_seconds()


def gaps(rig: Cluster, space_id: str) -> list[float]:
    """Seconds of wall-clock time missing before each discontinuity of the recording."""
    rows = rig.query(
        "SELECT s.program_date_time, s.samples, s.discontinuity FROM recording_segments s "
        "JOIN recordings r ON r.id = s.recording_id WHERE r.space_id = :id ORDER BY s.sequence",
        id=space_id,
    )
    found = []
    for (before, samples, _), (after, _, discontinuity) in itertools.pairwise(rows):
        if discontinuity:
            assert isinstance(before, datetime)
            assert isinstance(after, datetime)
            assert isinstance(samples, int)
            found.append((after - before).total_seconds() - samples / 48_000)
    return found


def test_any_node_serves_a_space_behind_the_balancer(rig: Cluster) -> None:
    async def scenario() -> None:
        host = await signed_in(rig.base, "host")
        async with host:
            space_id = (
                await host.post("/api/v1/spaces", json={"title": "Rig", "record": True})
            ).json()["id"]
            assert (await host.post(f"/api/v1/spaces/{space_id}/start")).status_code == 200
            owner = rig.owner(space_id)
            other = rig.other(owner)
            speaker = RoomSpeaker(host, space_id, "host", tone(PITCH))
            talking = asyncio.create_task(speaker.run())
            events = other.base.replace("http", "ws") + f"/api/v1/spaces/{space_id}/room/events"
            async with (
                EventLog(events) as log,
                httpx.AsyncClient(base_url=other.base, follow_redirects=True) as listener,
            ):
                assert log.events[0]["type"] == "state"
                await log.wait_for("speaking_started", timeout=20)
                await asyncio.sleep(4)
                assert band_share(await program_audio(listener, space_id), PITCH) > 0.2
                ended = await listener.post(f"/api/v1/spaces/{space_id}/end", headers=host.headers)
                assert ended.status_code == 200, ended.text
                await log.wait_for("ended")
            await asyncio.wait_for(talking, 20)
            recording = await recording_when_available(host, space_id, rig)
            space = (await host.get(f"/api/v1/spaces/{space_id}")).json()
            assert abs(float(str(recording["duration_seconds"])) - live_seconds(space)) <= 0.5
            assert gaps(rig, space_id) == []

    asyncio.run(scenario())


def test_a_space_survives_a_restart_a_death_and_a_drain(rig: Cluster) -> None:
    async def scenario() -> None:
        host = await signed_in(rig.base, "survivor")
        async with host:
            space_id = (
                await host.post("/api/v1/spaces", json={"title": "Survivor", "record": True})
            ).json()["id"]
            assert (await host.post(f"/api/v1/spaces/{space_id}/start")).status_code == 200
            speaker = RoomSpeaker(host, space_id, "survivor", tone(PITCH))
            talking = asyncio.create_task(speaker.run())
            await wait(lambda: speaker.connections == 1, 20, "the microphone connects", rig)
            await asyncio.sleep(3)

            # The node without the room restarts: nothing happens to the Space.
            first = rig.nodes[rig.owner(space_id)]
            second = rig.other(first.name)
            second.stop()
            second.start()
            assert rig.owner(space_id) == first.name
            assert (await host.get(f"/api/v1/spaces/{space_id}")).json()["state"] == "live"
            assert gaps(rig, space_id) == []

            # Its own node dies: the other takes the room over, the speaker follows.
            first.stop(signal.SIGKILL)
            await wait(lambda: rig.owner(space_id) == second.name, 20, "a takeover", rig)
            await wait(lambda: speaker.connections == 2, 30, "the speaker reconnects", rig)
            first.start()
            await asyncio.sleep(4)

            # The new owner drains on SIGTERM: the restarted node takes the room at once.
            second.stop()
            await wait(lambda: rig.owner(space_id) == first.name, 10, "a handover", rig)
            await wait(lambda: speaker.connections == 3, 30, "the speaker reconnects", rig)
            await asyncio.sleep(4)
            assert band_share(await program_audio(host, space_id), PITCH) > 0.2
            second.start()

            ended = await host.post(f"/api/v1/spaces/{space_id}/end")
            assert ended.status_code == 200, ended.text
            await asyncio.wait_for(talking, 20)
            recording = await recording_when_available(host, space_id, rig)
            space = (await host.get(f"/api/v1/spaces/{space_id}")).json()

        died, drained = gaps(rig, space_id)
        assert 0 <= died <= 10, died
        assert 0 <= drained <= 1, drained
        missing = live_seconds(space) - float(str(recording["duration_seconds"]))
        assert missing <= died + drained + 0.5, (missing, died, drained)
        playlist = rig.query(
            "SELECT COUNT(*) FROM recording_segments s JOIN recordings r ON r.id = s.recording_id "
            "WHERE r.space_id = :id AND s.discontinuity",
            id=space_id,
        )
        assert playlist == [(2,)]

    asyncio.run(scenario())


def captions_job(rig: Cluster, space_id: str) -> str | None:
    """The status of the Space's captions job, if there is one yet."""
    recordings = rig.query("SELECT id FROM recordings WHERE space_id = :id", id=space_id)
    if not recordings:
        return None
    runs = rig.query(
        "SELECT status, arguments FROM job_runs WHERE name = 'captions.transcribe' "
        "ORDER BY created_at"
    )
    mine = [
        status
        for status, arguments in runs
        if isinstance(arguments, dict) and arguments.get("recording_id") == recordings[0][0]
    ]
    return str(mine[-1]).lower() if mine else None


def test_captions_finish_after_their_worker_is_killed(rig: Cluster) -> None:
    async def scenario() -> None:
        host = await signed_in(rig.base, "captioned")
        async with host:
            space_id = (
                await host.post("/api/v1/spaces", json={"title": "Captioned", "record": True})
            ).json()["id"]
            assert (await host.post(f"/api/v1/spaces/{space_id}/start")).status_code == 200
            said = speech(SENTENCES)
            speaker = RoomSpeaker(host, space_id, "captioned", recording(said, loop=True))
            talking = asyncio.create_task(speaker.run())
            await asyncio.sleep(30)
            assert (await host.post(f"/api/v1/spaces/{space_id}/end")).status_code == 200
            await asyncio.wait_for(talking, 20)

            await wait(lambda: captions_job(rig, space_id) == "running", 90, "captions run", rig)
            rig.stop_worker(signal.SIGKILL)
            assert captions_job(rig, space_id) == "running"  # and nobody is running it now
            await asyncio.sleep(MISSED_BEATS * HEARTBEAT_SECONDS + 1)
            rig.start_worker()  # it finds the job its predecessor lost, and runs it again
            await wait(lambda: captions_job(rig, space_id) == "done", 120, "captions done", rig)
            captions = await host.get(f"/i/spaces/{space_id}/captions.vtt")
            assert captions.status_code == 200
            assert captions.text.startswith("WEBVTT")

    asyncio.run(scenario())
