"""Jobs outlive their workers: a run whose worker died is run again, periodic jobs run
once per minute however many workers there are, and /health says when nothing consumes."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from fastapi.testclient import TestClient

from airspace.app import create_app
from airspace.clock import SettableClock
from airspace.jobs import status
from airspace.jobs.queue import create_job_queue
from airspace.jobs.registry import JobContext, job
from airspace.jobs.tasks import stalled_after
from airspace.wiring import Services
from tests.conftest import REDIS_URL

RUNS: list[str] = []


@job("tests.records_its_run", retries=0)
def records_its_run(ctx: JobContext, *, mark: str) -> None:
    RUNS.append(mark)


def started_then_orphaned(services: Services, mark: str) -> str:
    """A run a worker took and then died with: marked running, in no queue any more."""
    run_id = uuid.uuid4().hex
    status.create_run(services, run_id, "tests.records_its_run", {"mark": mark}, None)
    status.mark_running(services, run_id)
    return run_id


def test_a_job_whose_worker_died_is_run_again(services: Services, clock: SettableClock) -> None:
    RUNS.clear()
    with TestClient(create_app(services, run_jobs=True)):
        orphan = started_then_orphaned(services, "orphan")
        clock.advance(stalled_after(services.settings) / 2)
        alive = started_then_orphaned(services, "alive")  # its worker beat just now
        clock.advance(stalled_after(services.settings) / 2 + timedelta(seconds=1))
        services.jobs.run_now("jobs.requeue_stalled")
        deadline = time.monotonic() + 20
        while status.get_run(services, orphan).status.value != "done":
            assert time.monotonic() < deadline, status.get_run(services, orphan).error
            time.sleep(0.05)
    run = status.get_run(services, orphan)
    assert run.attempts == 2
    assert RUNS == ["orphan"]
    assert status.get_run(services, alive).status.value == "running"


def test_periodic_jobs_run_once_a_minute_across_workers(clock: SettableClock) -> None:
    first, second = create_job_queue(REDIS_URL), create_job_queue(REDIS_URL)
    name = f"tests.periodic.{uuid.uuid4().hex}"
    now = clock.now()
    assert first.claim_periodic(name, now)
    assert not second.claim_periodic(name, now + timedelta(seconds=30))
    assert second.claim_periodic(name, now + timedelta(minutes=1))


def test_health_says_degraded_while_jobs_wait_and_nothing_consumes(
    client: TestClient, services: Services, clock: SettableClock
) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    status.create_run(services, uuid.uuid4().hex, "tests.records_its_run", {"mark": "x"}, None)
    clock.advance(timedelta(minutes=3))
    health = client.get("/api/v1/health").json()
    assert health["status"] == "degraded"
    assert health["jobs_queued"] == 1
    assert health["oldest_queued_seconds"] == 180.0
    assert health["last_job_started_seconds_ago"] is None
