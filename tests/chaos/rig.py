"""What the chaos tests break things under: ``airspace serve`` processes on a PostgreSQL
schema of their own, a ``redis-server`` of their own, and a host driving a recorded
Space over HTTP, the way the cluster rig (tests/e2e/cluster.py) does."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis
from sqlalchemy import create_engine, text

from airspace.media.room_speaker import RoomSpeaker
from tests.conftest import POSTGRES_URL
from tests.e2e.cluster import Node
from tests.e2e.processes import free_port

REDIS_SERVER = Path("/usr/bin/redis-server")
PASSWORD = "a long and unusual passphrase"
SEGMENT_URI = re.compile(r"^live/(\d{6})\.ts$")


@contextmanager
def database_schema() -> Iterator[str]:
    """A PostgreSQL schema of one test, dropped after it; yields the schema's name."""
    schema = f"airspace_chaos_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def schema_url(schema: str, port: int | None = None) -> str:
    """The test database's URL with ``schema`` as its search path (through ``port``)."""
    url = POSTGRES_URL if port is None else POSTGRES_URL.replace(":5432/", f":{port}/")
    assert port is None or url != POSTGRES_URL, f"no :5432/ to replace in {POSTGRES_URL}"
    return f"{url}?options=-csearch_path%3D{schema}"


def server_env(data_dir: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of an ``airspace serve`` (or worker) process: one PostgreSQL
    database, local storage in ``data_dir``, live rooms in one media process, and
    ``settings`` (``AIRSPACE_*`` names) on top."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "AIRSPACE_DATA_DIR": str(data_dir),
        "AIRSPACE_DATABASE_URL": database_url,
        "AIRSPACE_SECRET_KEY": "chaos-secret-key",
        "AIRSPACE_MEDIA_WORKERS": "1",
        **settings,
    }
    for name in (
        "AIRSPACE_NODE_ID",
        "AIRSPACE_STORAGE_URL",
        "AIRSPACE_QUEUE_URL",
        "AIRSPACE_EVENTS_URL",
    ):
        if name not in settings:
            env.pop(name, None)
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "airspace", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )


def node(tmp_path: Path, name: str, env: dict[str, str]) -> Node:
    """An ``airspace serve`` process (not started) on a free port, logging to a file."""
    return Node(name, free_port(), env, tmp_path / f"{name}.log")


@dataclass
class Worker:
    """An ``airspace worker`` process consuming a Redis queue."""

    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "airspace", "worker", "--workers", "1"],
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)
        self.process = None


@dataclass
class RedisServer:
    """A ``redis-server`` of one test on a port of its own, keeping nothing on disk."""

    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (on the same port every time) and wait until it answers."""
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                str(REDIS_SERVER),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError as error:
                    if time.monotonic() > deadline:
                        log = self.log.read_text()
                        raise AssertionError(f"redis-server did not start:\n{log}") from error
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        """Gone at once, and everything it held with it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


@contextmanager
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(free_port(), tmp_path / "redis.log")
    server.start()
    try:
        yield server
    finally:
        server.kill()


@dataclass
class RedisNodes:
    """``airspace serve`` nodes sharing one database, one media directory and one Redis
    (room relay, events, rate limits and the job queue), with a worker on that queue."""

    nodes: dict[str, Node]
    worker: Worker | None

    @property
    def logs(self) -> list[Path]:
        found = [n.log for n in self.nodes.values()]
        return found + ([self.worker.log] if self.worker is not None else [])


@contextmanager
def redis_nodes(
    tmp_path: Path, redis_url: str, names: tuple[str, ...], *, worker: bool
) -> Iterator[RedisNodes]:
    """Start ``names`` as nodes on ``redis_url`` (and a worker when ``worker``)."""
    with database_schema() as schema:
        shared = {
            "AIRSPACE_EVENTS_URL": redis_url,
            "AIRSPACE_QUEUE_URL": redis_url,
            "AIRSPACE_STORAGE_URL": f"file://{tmp_path / 'media'}",
        }
        url = schema_url(schema)
        migrate(server_env(tmp_path / "migrate", url, **shared))
        nodes = {
            name: node(
                tmp_path, name, server_env(tmp_path / name, url, AIRSPACE_NODE_ID=name, **shared)
            )
            for name in names
        }
        consumer = (
            Worker(
                server_env(tmp_path / "worker", url, AIRSPACE_NODE_ID="worker", **shared),
                tmp_path / "worker.log",
            )
            if worker
            else None
        )
        try:
            if consumer is not None:
                consumer.start()
            for started in nodes.values():
                started.start()
            yield RedisNodes(nodes, consumer)
        finally:
            for started in nodes.values():
                started.stop()
            if consumer is not None:
                consumer.stop()


async def signed_in(base: str, username: str) -> httpx.AsyncClient:
    """A client of ``base`` with an API token of a new account."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        reply = await http.post(
            "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
        )
        assert reply.status_code == 201, reply.text
        csrf = {"X-CSRF-Token": reply.json()["csrf_token"]}
        token = await http.post("/api/v1/me/tokens", json={"name": "chaos"}, headers=csrf)
        assert token.status_code == 201, token.text
    return httpx.AsyncClient(
        base_url=base,
        timeout=30,
        follow_redirects=True,
        headers={"Authorization": f"Bearer {token.json()['token']}"},
    )


async def until(
    check: Callable[[], Awaitable[bool]], seconds: float, what: str, logs: list[Path]
) -> None:
    """Poll ``check`` until it holds; after ``seconds``, fail with the logs' tails."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what}\n{tails(logs)}")
        await asyncio.sleep(0.2)


def tails(logs: list[Path]) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-4000:]}" for p in logs if p.exists())


UNHANDLED = (
    "unhandled error",  # the app's answer to a bug: 500
    "Exception in ASGI application",
    "Task exception was never retrieved",  # a background task died and nobody knew
    "Exception in thread",
)


def unhandled_failures(logs: list[Path]) -> list[str]:
    """Lines of ``logs`` saying something failed that nothing handled."""
    return [
        f"{path.name}: {line}"
        for path in logs
        for line in path.read_text().splitlines()
        if any(sign in line for sign in UNHANDLED)
    ]


@dataclass
class LiveTime:
    """Monotonic times around the requests that started and ended a Space: its live
    time lies between ``shortest`` and ``longest`` however slow those requests were."""

    before_start: float = 0.0
    started: float = 0.0
    ending: float = 0.0
    ended: float = 0.0

    @property
    def shortest(self) -> float:
        return self.ending - self.started

    @property
    def longest(self) -> float:
        return self.ended - self.before_start


async def start_recorded_space(http: httpx.AsyncClient, title: str, times: LiveTime) -> str:
    """Create a recorded Space and take it live; returns its id."""
    created = await http.post("/api/v1/spaces", json={"title": title, "record": True})
    assert created.status_code == 201, created.text
    space_id: str = created.json()["id"]
    times.before_start = time.monotonic()
    started = await http.post(f"/api/v1/spaces/{space_id}/start")
    times.started = time.monotonic()
    assert started.status_code == 200, started.text
    return space_id


async def end_space(http: httpx.AsyncClient, space_id: str, times: LiveTime) -> None:
    times.ending = time.monotonic()
    ended = await http.post(f"/api/v1/spaces/{space_id}/end")
    times.ended = time.monotonic()
    assert ended.status_code == 200, ended.text


async def available_recording(
    http: httpx.AsyncClient, space_id: str, logs: list[Path], seconds: float = 60
) -> dict[str, object]:
    """The Space's recording once it is available (fails after ``seconds``)."""
    recording: dict[str, object] = {}

    async def available() -> bool:
        nonlocal recording
        reply = await http.get(f"/api/v1/spaces/{space_id}/recording")
        recording = reply.json() if reply.status_code == 200 else {"reply": reply.text}
        return recording.get("state") == "available"

    await until(available, seconds, f"the recording becomes available ({recording})", logs)
    return recording


def live_edge(playlist: str) -> int:
    """The sequence number of the newest segment a live playlist names."""
    sequence = next(
        int(line.partition(":")[2])
        for line in playlist.splitlines()
        if line.startswith("#EXT-X-MEDIA-SEQUENCE:")
    )
    segments = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    return sequence + len(segments) - 1


@dataclass(frozen=True)
class ReplayPlaylist:
    """The replay's VOD playlist, as a player reads it from ``url``."""

    text: str
    url: str

    @property
    def segment_numbers(self) -> list[int]:
        """The number in each segment's file name, in playlist order."""
        uris = [line for line in self.text.splitlines() if line and not line.startswith("#")]
        numbers = []
        for uri in uris:
            found = SEGMENT_URI.match(uri)
            assert found, uri
            numbers.append(int(found[1]))
        return numbers

    @property
    def seconds(self) -> float:
        """The sum of the segments' durations."""
        return sum(
            float(line.removeprefix("#EXTINF:").split(",")[0])
            for line in self.text.splitlines()
            if line.startswith("#EXTINF:")
        )

    @property
    def discontinuities(self) -> int:
        return self.text.count("#EXT-X-DISCONTINUITY\n")


async def replay_playlist(http: httpx.AsyncClient, space_id: str) -> ReplayPlaylist:
    reply = await http.get(f"/i/spaces/{space_id}/replay.m3u8")
    assert reply.status_code == 200, reply.text
    assert reply.text.rstrip().endswith("#EXT-X-ENDLIST"), reply.text
    return ReplayPlaylist(reply.text, str(reply.url))


def wrong_outage_answers(answers: list[tuple[str, httpx.Response]]) -> str:
    """Those of ``answers`` (what was asked, the reply) that are not what an outage
    answers (503 with a JSON reason and when to try again), counted; "" if none."""
    wrong: Counter[str] = Counter()
    for what, reply in answers:
        if not (
            reply.status_code == 503
            and reply.headers.get("content-type") == "application/json"
            and reply.json().get("detail")
            and int(reply.headers.get("retry-after", "0")) > 0
        ):
            wrong[f"{what}: {reply.status_code} {reply.text[:200]}"] += 1
    return "\n".join(f"{count} x {answer}" for answer, count in wrong.items())


async def speaking_with_a_listener(
    http: httpx.AsyncClient, space_id: str, speaker: RoomSpeaker, logs: list[Path]
) -> tuple[str, int]:
    """Once ``speaker`` (running) is connected: a listener's granted live playlist link,
    taken a couple of segments in, and the live edge it shows then."""

    async def speaking() -> bool:
        return speaker.connections == 1

    await until(speaking, 20, "the microphone connects", logs)
    entry = await http.get(f"/i/spaces/{space_id}/live.m3u8")
    assert entry.status_code == 200, entry.text
    granted = str(entry.url)
    await asyncio.sleep(2)
    return granted, live_edge((await http.get(granted)).text)
