"""Fixtures: real SQLite and PostgreSQL databases, services, an HTTP client, and a real
server on loopback (uvicorn in a thread) for WebRTC speakers and listeners."""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

from airspace.app import create_app
from airspace.clock import SettableClock
from airspace.config import Settings
from airspace.db.base import Base, import_all_models
from airspace.db.engine import create_database_engine
from airspace.db.migrate import upgrade
from airspace.delivery.http_protocol import server_config
from airspace.wiring import Services, build_services
from tests.downloader.hls_server import FakeServer
from tests.e2e.processes import free_port

POSTGRES_URL = os.environ.get(
    "AIRSPACE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("AIRSPACE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session", autouse=True)
def fresh_shared_rate_limits() -> None:
    """Rate limits kept in the test Redis by earlier runs would refuse this run's sign-ups."""
    import redis

    connection = redis.Redis.from_url(REDIS_URL)
    keys = list(connection.scan_iter("airspace:limit:*"))
    if keys:
        connection.delete(*keys)
    connection.close()


@pytest.fixture(scope="session")
def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search path is a schema of this test run, dropped at the end."""
    schema = f"airspace_test_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session")
def migrated_urls() -> dict[str, str]:
    """Database URLs by backend, each migrated once per test run."""
    return {}


def _migrated_url(
    backend: str,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
    cache: dict[str, str],
) -> str:
    if backend not in cache:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'airspace.db'}"
        else:
            url = request.getfixturevalue("postgres_schema_url")
        engine = create_database_engine(url)
        upgrade(engine)
        engine.dispose()
        cache[backend] = url
    return cache[backend]


def _empty_tables(engine: Engine) -> None:
    import_all_models()
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        if engine.dialect.name == "sqlite":
            connection.execute(text("DELETE FROM transcript_search"))


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    migrated_urls: dict[str, str],
) -> Iterator[str]:
    """A migrated, empty database on each backend in turn."""
    url = _migrated_url(request.param, tmp_path_factory, request, migrated_urls)
    yield url
    engine = create_database_engine(url)
    _empty_tables(engine)
    engine.dispose()


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))


def make_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "storage_url": f"file://{data_dir / 'media'}",
        "queue_url": f"sqlite:///{data_dir / 'jobs.db'}",
        "events_url": "memory://",
        "secret_key": "test-secret-key",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def services(settings: Settings, clock: SettableClock) -> Iterator[Services]:
    built = build_services(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services)) as test_client:
        yield test_client


def register(client: TestClient, username: str, password: str = "correct horse") -> dict[str, str]:
    """Register ``username`` and return headers that authenticate as them with an API token."""
    response = client.post(
        "/api/v1/auth/register", json={"username": username, "password": password}
    )
    assert response.status_code == 201, response.text
    token = client.post(
        "/api/v1/me/tokens",
        json={"name": "tests"},
        headers={"X-CSRF-Token": response.json()["csrf_token"]},
    )
    assert token.status_code == 201, token.text
    client.cookies.clear()
    return {"Authorization": f"Bearer {token.json()['token']}"}


def replace_cookie(client: TestClient, name: str, value: str) -> None:
    """Set a cookie as a browser would hold it: one value per name."""
    kept = {k: v for k, v in client.cookies.items() if k != name}
    client.cookies.clear()
    for key, kept_value in kept.items():
        client.cookies.set(key, kept_value)
    client.cookies.set(name, value)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A real HTTP server on loopback for generated HLS, stand-in APIs and faults."""
    with FakeServer().running() as running:
        yield running


@dataclass
class LiveServer:
    base: str
    services: Services

    def register(self, username: str) -> dict[str, str]:
        """A new account; returns headers that authenticate as it."""
        with httpx.Client(follow_redirects=True, base_url=self.base, timeout=10) as http:
            session = http.post(
                "/api/v1/auth/register", json={"username": username, "password": "pw-12345678"}
            )
            assert session.status_code == 201, session.text
            token = http.post(
                "/api/v1/me/tokens",
                json={"name": "tests"},
                headers={"X-CSRF-Token": session.json()["csrf_token"]},
            )
            assert token.status_code == 201, token.text
        return {"Authorization": f"Bearer {token.json()['token']}"}

    def create_space(self, host: dict[str, str], **fields: Any) -> str:
        with httpx.Client(
            follow_redirects=True, base_url=self.base, timeout=10, headers=host
        ) as http:
            response = http.post("/api/v1/spaces", json={"title": "Live test", **fields})
            assert response.status_code == 201, response.text
            space_id: str = response.json()["id"]
        return space_id


@pytest.fixture
def live_server(services: Services) -> Iterator[LiveServer]:
    port = free_port()
    # Links the API hands out (replay playlists, files) point at this server.
    services.settings = replace(services.settings, public_url=f"http://127.0.0.1:{port}")
    app = create_app(services, run_jobs=True)
    config = server_config(
        app,
        app.fast_path,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,  # pages left open by a module's browser
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", services)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


SLOW_FOLDERS = ("e2e", "chaos")
"""Whole folders of tests that run servers, browsers and outages in real time."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)
