"""``airspace serve`` as a user runs it: a real server process with its job consumer inside."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import serve


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    process, base = serve(tmp_path)
    try:
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert process.returncode in (0, -signal.SIGTERM), output.decode()
        assert b"Application shutdown complete" in output
        assert b"All workers have stopped" in output


def test_serve_runs_the_api_and_its_jobs(server: str) -> None:
    with httpx.Client(follow_redirects=True, base_url=server, timeout=10) as http:
        assert http.get("/api/v1/health").json()["status"] == "ok"
        session = http.post(
            "/api/v1/auth/register", json={"username": "host", "password": "pw-12345678"}
        )
        csrf = {"X-CSRF-Token": session.json()["csrf_token"]}
        space = http.post(
            "/api/v1/spaces", json={"title": "E2E", "record": True}, headers=csrf
        ).json()
        http.post(f"/api/v1/spaces/{space['id']}/start", headers=csrf).raise_for_status()
        http.post(f"/api/v1/spaces/{space['id']}/end", headers=csrf).raise_for_status()
        deadline = time.monotonic() + 30
        state = None
        while time.monotonic() < deadline:
            state = http.get(f"/api/v1/spaces/{space['id']}/recording").json()["state"]
            if state == "available":
                break
            time.sleep(0.1)
        assert state == "available"
        page = http.get(f"/i/spaces/{space['id']}")
        assert "E2E" in page.text
