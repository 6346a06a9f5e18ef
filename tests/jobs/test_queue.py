from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from airspace.app import create_app
from airspace.clock import SettableClock
from airspace.config import Settings
from airspace.jobs.queue import HueyJobQueue
from airspace.jobs.registry import JobContext, job
from airspace.wiring import Services, build_services
from tests.conftest import REDIS_URL, make_settings, register

FAILURES: list[int] = []


@job("tests.fails_then_succeeds", retries=2, retry_delay_seconds=0.05)
def fails_then_succeeds(ctx: JobContext, *, failures: int) -> None:
    FAILURES.append(1)
    ctx.report_progress(0.5)
    if len(FAILURES) <= failures:
        raise RuntimeError(f"transient failure {len(FAILURES)}")


def wait_for_job(
    client: TestClient, job_id: str, headers: dict[str, str], timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if run["status"] in ("done", "failed"):
            return run
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {run}")


def end_recorded_space(client: TestClient, headers: dict[str, str]) -> str:
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Jobs", "record": True}, headers=headers
    ).json()["id"]
    client.post(f"/api/v1/spaces/{space_id}/start", headers=headers)
    client.post(f"/api/v1/spaces/{space_id}/end", headers=headers)
    return str(space_id)


def finalize_job_id(services: Services, space_id: str) -> str:
    from sqlalchemy import select

    from airspace.jobs.models import JobRun

    with services.sessions() as session:
        return session.scalars(
            select(JobRun.id).where(
                JobRun.subject == space_id, JobRun.name == "recordings.finalize"
            )
        ).one()


def test_sqlite_queue_runs_inside_the_app(services: Services) -> None:
    assert services.jobs.in_process
    with TestClient(create_app(services, run_jobs=True)) as client:
        host = register(client, "host")
        space_id = end_recorded_space(client, host)
        run = wait_for_job(client, finalize_job_id(services, space_id), host)
        assert run["status"] == "done"
        assert run["progress"] == 1.0
        recording = client.get(f"/api/v1/spaces/{space_id}/recording").json()
        assert recording["state"] == "available"


def make_admin(services: Services, username: str) -> None:
    from airspace.accounts.models import Role, User

    with services.sessions() as session:
        session.query(User).filter_by(username=username).one().role = Role.ADMIN
        session.commit()


def test_failed_attempts_retry_with_backoff_then_fail_with_reason(services: Services) -> None:
    FAILURES.clear()
    with TestClient(create_app(services, run_jobs=True)) as client:
        host = register(client, "host")
        make_admin(services, "host")  # a job about no Space is for admins to see
        recovers = services.jobs.enqueue("tests.fails_then_succeeds", failures=2)
        run = wait_for_job(client, recovers, host)
        assert run["status"] == "done"
        assert run["attempts"] == 3
        FAILURES.clear()
        gives_up = services.jobs.enqueue("tests.fails_then_succeeds", failures=5)
        run = wait_for_job(client, gives_up, host)
        assert run["status"] == "failed"
        assert run["attempts"] == 3
        assert run["error"] == "RuntimeError: transient failure 3"


def test_a_job_is_shown_to_the_host_of_its_space_and_to_admins_only(
    services: Services,
) -> None:
    with TestClient(create_app(services)) as client:
        host = register(client, "host")
        stranger = register(client, "stranger")
        admin = register(client, "admin")
        make_admin(services, "admin")
        job_id = finalize_job_id(services, end_recorded_space(client, host))
        url = f"/api/v1/jobs/{job_id}"
        assert client.get(url, headers=host).status_code == 200
        assert client.get(url, headers=admin).status_code == 200
        hidden = client.get(url, headers=stranger)
        assert hidden.status_code == 404
        assert hidden.json() == {"detail": f"no job {job_id}"}


def test_unknown_job_is_refused(services: Services) -> None:
    with pytest.raises(KeyError):
        services.jobs.enqueue("no.such.job")
    assert client_status(services, "nope") == 404


def client_status(services: Services, job_id: str) -> int:
    with TestClient(create_app(services)) as client:
        return client.get(f"/api/v1/jobs/{job_id}", headers=register(client, "someone")).status_code


def test_lifecycle_sweep_is_periodic(services: Services) -> None:
    queue = services.jobs
    assert isinstance(queue, HueyJobQueue)
    due = queue.huey.read_periodic(datetime(2026, 11, 21, 12, 34))
    assert "recordings.advance_lifecycle" in [task.name for task in due]


@pytest.fixture
def redis_settings(tmp_path: Path, database_url: str) -> Iterator[Settings]:
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    yield make_settings(tmp_path, database_url, queue_url=REDIS_URL)
    connection.flushdb()
    connection.close()


def test_redis_queue_is_consumed_by_airspace_worker(
    redis_settings: Settings, clock: SettableClock
) -> None:
    services = build_services(redis_settings, clock=clock)
    assert not services.jobs.in_process
    env = {
        **os.environ,
        "AIRSPACE_DATA_DIR": str(redis_settings.data_dir),
        "AIRSPACE_DATABASE_URL": redis_settings.database_url,
        "AIRSPACE_QUEUE_URL": redis_settings.queue_url,
        "AIRSPACE_SECRET_KEY": redis_settings.secret_key,
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "airspace", "worker", "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # The app serves the API but consumes nothing: the worker process runs the job.
        with TestClient(create_app(services, run_jobs=True)) as client:
            host = register(client, "host")
            space_id = end_recorded_space(client, host)
            run = wait_for_job(client, finalize_job_id(services, space_id), host, timeout=60)
            assert run["status"] == "done"
            assert client.get(f"/api/v1/spaces/{space_id}/recording").json()["state"] == "available"
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
        services.close()
    assert b"recordings.finalize" in output
