"""A real server on loopback (uvicorn in a thread) for WebRTC speakers and listeners."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn

from airspace.app import create_app
from airspace.wiring import Services
from tests.e2e.processes import free_port


@dataclass
class LiveServer:
    base: str
    services: Services

    def register(self, username: str) -> dict[str, str]:
        """A new account; returns headers that authenticate as it."""
        with httpx.Client(base_url=self.base, timeout=10) as http:
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
        with httpx.Client(base_url=self.base, timeout=10, headers=host) as http:
            response = http.post("/api/v1/spaces", json={"title": "Live test", **fields})
            assert response.status_code == 201, response.text
            space_id: str = response.json()["id"]
        return space_id


@pytest.fixture
def live_server(services: Services) -> Iterator[LiveServer]:
    port = free_port()
    app = create_app(services, run_jobs=True)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
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
