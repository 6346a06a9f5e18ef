"""The download page's API, with the job running inside the app as on the embedded default."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from airspace.app import create_app
from airspace.clock import SettableClock
from airspace.downloader.address_guard import is_public_address
from airspace.jobs.queue import HueyJobQueue
from airspace.wiring import build_services
from tests.audio import best_lag, decode
from tests.conftest import make_settings
from tests.downloader.hls_server import FakeServer, make_recording


@pytest.fixture
def web(tmp_path: Path, database_url: str, clock: SettableClock) -> Iterator[TestClient]:
    settings = make_settings(
        tmp_path,
        database_url,
        download_allow_hosts=frozenset({"127.0.0.1"}),
        download_rate_per_hour=3,
        download_max_mb=1,
    )
    services = build_services(settings, clock=clock)
    with TestClient(create_app(services, run_jobs=True)) as client:
        yield client
    services.close()


def wait(client: TestClient, download_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/v1/downloads/{download_id}").json()
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"download {download_id} did not finish")


def test_paste_a_link_get_an_mp3(web: TestClient, server: FakeServer, clock: SettableClock) -> None:
    recording = make_recording(9.0, "ts", seed=21)
    url = server.serve_recording(recording)
    page = web.get("/download")
    assert "Paste a Space link" in page.text
    started = web.post("/api/v1/downloads", json={"url": url})
    assert started.status_code == 202
    done = wait(web, started.json()["id"])
    assert done["status"] == "done", done
    assert done["progress"] == 1.0
    assert done["title"] == "index"
    file = web.get(done["file_url"])
    assert file.status_code == 200
    assert "attachment" in file.headers["content-disposition"]
    expected, _ = decode(b"".join(recording.frames), format="aac")
    decoded, _ = decode(file.content)
    assert abs(len(decoded) - len(expected)) <= 1
    assert best_lag(expected, decoded)[0] == 0
    # The link lasts an hour.
    clock.advance(timedelta(hours=1, seconds=1))
    assert web.get(done["file_url"]).status_code == 410
    assert web.get(f"/api/v1/downloads/{started.json()['id']}").json()["file_url"] is None
    queue = web.app.state.services.jobs
    assert isinstance(queue, HueyJobQueue)
    queue.run_now("downloads.expire")
    assert web.app.state.services.storage.list("downloads/") == []


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.1/x.m3u8", "http://169.254.169.254/", "http://[::1]/x", "http://localhost/x"],
)
def test_internal_links_are_refused_at_once(web: TestClient, url: str) -> None:
    response = web.post("/api/v1/downloads", json={"url": url})
    assert response.status_code == 422
    assert response.json() == {"detail": "links to internal addresses are not fetched"}


def test_a_name_resolving_inside_fails_the_job(web: TestClient) -> None:
    # Names are resolved in the job, which checks the address it would connect to. This
    # machine's own name resolves to one of its addresses, loopback or private.
    name = socket.gethostname()
    address = ipaddress.ip_address(socket.getaddrinfo(name, 80)[0][4][0])
    if is_public_address(address):
        pytest.skip(f"{name} resolves to a public address here")
    response = web.post("/api/v1/downloads", json={"url": f"http://{name}:9/x.m3u8"})
    done = wait(web, response.json()["id"])
    assert done["status"] == "failed"
    assert f"resolves to an internal address ({address})" in done["error"]


def test_size_cap(web: TestClient, server: FakeServer) -> None:
    url = server.serve_recording(make_recording(150.0, "ts", seed=22))  # about 1.2 MB
    done = wait(web, web.post("/api/v1/downloads", json={"url": url}).json()["id"])
    assert done["status"] == "failed"
    assert done["error"] == "the recording is larger than 1 MB"


def test_rate_limit_per_client(web: TestClient) -> None:
    for _ in range(3):
        assert (
            web.post(
                "/api/v1/downloads", json={"url": "https://x.com/i/spaces/1AbCdEfGhIjKl"}
            ).status_code
            == 202
        )
    refused = web.post("/api/v1/downloads", json={"url": "https://x.com/i/spaces/1AbCdEfGhIjKl"})
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("too many downloads from this address")


def test_bad_links_and_ids(web: TestClient) -> None:
    assert web.post("/api/v1/downloads", json={"url": "ftp://x"}).status_code == 422
    assert web.get("/api/v1/downloads/nope").status_code == 404
    assert web.get("/download/files/forged-token").status_code == 404
