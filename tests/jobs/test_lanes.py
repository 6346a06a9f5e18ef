"""Downloads run on a lane of their own: however slow the sources of running downloads,
the instance's own jobs (finalizing, captions, the clock) start at once beside them."""

from __future__ import annotations

import time
from dataclasses import replace

from fastapi.testclient import TestClient

from airspace.app import create_app
from airspace.config import Settings
from airspace.jobs import status
from airspace.jobs.models import JobStatus
from airspace.wiring import build_services
from tests.downloader.hls_server import FakeServer, Reply
from tests.jobs.test_durable import RUNS


def wait_for(check: object, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.05)


def test_jobs_do_not_wait_behind_slow_downloads(settings: Settings, server: FakeServer) -> None:
    RUNS.clear()
    server.routes["/crawl.mp3"] = lambda _r: Reply(
        200, b"\xff\xfb" * 100_000, "audio/mpeg", bytes_per_second=2_000
    )
    one_each = replace(
        settings,
        job_workers=1,
        download_workers=1,
        download_min_kbps=1,
        download_allow_hosts=frozenset({"127.0.0.1"}),
    )
    services = build_services(one_each)
    try:
        with TestClient(create_app(services, run_jobs=True)):
            crawling = [
                services.jobs.enqueue("downloads.fetch", url=f"{server.url}/crawl.mp3", fmt="mp3")
                for _ in range(2)
            ]
            wait_for(
                lambda: status.get_run(services, crawling[0]).status is JobStatus.RUNNING,
                "a download runs",
            )
            quick = services.jobs.enqueue("tests.records_its_run", mark="quick")
            wait_for(lambda: status.get_run(services, quick).status is JobStatus.DONE, "a job")
            assert RUNS == ["quick"]
            # The downloads are still crawling (the second still waits for its lane).
            assert status.get_run(services, crawling[0]).status is JobStatus.RUNNING
            assert status.get_run(services, crawling[1]).status is JobStatus.QUEUED
    finally:
        services.close()
