"""Job-run records: queued, running with progress, done, or failed with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from airspace.db.engine import transaction
from airspace.errors import NotFound
from airspace.jobs.models import JobRun, JobStatus

if TYPE_CHECKING:
    from airspace.wiring import Services


def create_run(
    services: Services, run_id: str, name: str, arguments: dict[str, object], subject: str | None
) -> None:
    with transaction(services.sessions) as session:
        session.add(
            JobRun(
                id=run_id,
                name=name,
                arguments=arguments,
                subject=subject,
                status=JobStatus.QUEUED,
                progress=0.0,
                attempts=0,
                created_at=services.clock.now(),
            )
        )


def mark_running(services: Services, run_id: str) -> int:
    """Mark the run started; returns the attempt number, from 1."""
    with transaction(services.sessions) as session:
        run = _get(session, run_id)
        run.status = JobStatus.RUNNING
        run.attempts += 1
        run.started_at = run.heartbeat_at = services.clock.now()
        run.error = None
        return run.attempts


def heartbeat(services: Services, run_id: str) -> None:
    """The worker running ``run_id`` is alive."""
    with transaction(services.sessions) as session:
        _get(session, run_id).heartbeat_at = services.clock.now()


def claim_stalled(services: Services, silent_since: datetime) -> list[JobRun]:
    """Running jobs whose worker has not beaten since ``silent_since`` (it died): each
    is marked queued again, with the reason, and returned to be put back on the queue."""
    with transaction(services.sessions) as session:
        runs = list(
            session.scalars(
                select(JobRun).where(
                    JobRun.status == JobStatus.RUNNING,
                    func.coalesce(JobRun.heartbeat_at, JobRun.started_at) < silent_since,
                )
            )
        )
        for run in runs:
            run.status = JobStatus.QUEUED
            run.error = "its worker stopped; running it again"
        session.flush()
        session.expunge_all()
        return runs


@dataclass(frozen=True)
class QueueHealth:
    queued: int
    oldest_queued_at: datetime | None
    last_started_at: datetime | None


def queue_health(session: Session) -> QueueHealth:
    """How many runs wait, since when the oldest, and when a worker last took one."""
    queued, oldest = session.execute(
        select(func.count(JobRun.id), func.min(JobRun.created_at)).where(
            JobRun.status == JobStatus.QUEUED
        )
    ).one()
    last = session.scalar(select(func.max(JobRun.started_at)))
    return QueueHealth(int(queued), oldest, last)


def mark_done(services: Services, run_id: str) -> None:
    with transaction(services.sessions) as session:
        run = _get(session, run_id)
        run.status = JobStatus.DONE
        run.progress = 1.0
        run.finished_at = services.clock.now()


def mark_failed(services: Services, run_id: str, error: str, *, will_retry: bool) -> None:
    with transaction(services.sessions) as session:
        run = _get(session, run_id)
        run.status = JobStatus.QUEUED if will_retry else JobStatus.FAILED
        run.error = error
        if not will_retry:
            run.finished_at = services.clock.now()


def set_result(services: Services, run_id: str, result: dict[str, object]) -> None:
    """What the job produced, for the API to show once it is done."""
    with transaction(services.sessions) as session:
        _get(session, run_id).result = result


def set_progress(services: Services, run_id: str, fraction: float) -> None:
    with transaction(services.sessions) as session:
        _get(session, run_id).progress = min(max(fraction, 0.0), 1.0)


def get_run(services: Services, run_id: str) -> JobRun:
    with services.sessions() as session:
        return _get(session, run_id)


def _get(session: Session, run_id: str) -> JobRun:
    run = session.get(JobRun, run_id)
    if run is None:
        raise NotFound(f"no job {run_id}")
    return run


def latest_run(
    session: Session, name: str, subject: str, arguments: dict[str, object] | None = None
) -> JobRun | None:
    """The most recent run of job ``name`` about ``subject`` (whose arguments include
    ``arguments``, when given)."""
    runs = session.scalars(
        select(JobRun)
        .where(JobRun.name == name, JobRun.subject == subject)
        .order_by(JobRun.created_at.desc(), JobRun.id)
        .limit(50)
    )
    for run in runs:
        if arguments is None or all(run.arguments.get(k) == v for k, v in arguments.items()):
            return run
    return None
