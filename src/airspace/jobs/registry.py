"""The jobs Airspace knows, declared next to their domain in ``<domain>/tasks.py``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airspace.wiring import Services

TASK_MODULES = (
    "airspace.recordings.tasks",
    "airspace.captions.tasks",
    "airspace.downloader.tasks",
    "airspace.sharing.tasks",
    "airspace.archive.tasks",
    "airspace.jobs.tasks",
)


class JobContext:
    """What a running job sees: the services, its own id, and a way to report progress."""

    def __init__(self, services: Services, job_id: str | None) -> None:
        self.services = services
        self.job_id = job_id

    def report_progress(self, fraction: float) -> None:
        """Record how far the job is, from 0.0 to 1.0."""
        if self.job_id is not None:
            from airspace.jobs.status import set_progress

            set_progress(self.services, self.job_id, fraction)


class JobFailed(Exception):
    """A job that cannot succeed: no retry, and the message is the reason users see."""


JobFunction = Callable[..., None]


JOBS_LANE = "jobs"
"""Finalizing, captions, renditions, the lifecycle clock: the instance's own work."""
DOWNLOADS_LANE = "downloads"
"""Downloads on users' behalf: as slow as their sources, so on workers of their own."""
LANES = (JOBS_LANE, DOWNLOADS_LANE)


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: JobFunction
    retries: int = 3
    retry_delay_seconds: float = 5.0
    lane: str = JOBS_LANE
    """The queue (and workers) the job runs on: nothing waits behind another lane's jobs."""
    # A periodic job runs on this schedule (cron fields) and has no job-run record.
    every_minute: str | None = None
    every_hour: str | None = None

    @property
    def is_periodic(self) -> bool:
        return self.every_minute is not None

    def retry_delay(self, attempt: int) -> float:
        """Exponential backoff: the delay before attempt ``attempt + 1``, in seconds."""
        return float(self.retry_delay_seconds * 2 ** max(attempt - 1, 0))


_JOBS: dict[str, JobSpec] = {}


def job(
    name: str, *, retries: int = 3, retry_delay_seconds: float = 5.0, lane: str = JOBS_LANE
) -> Callable[[JobFunction], JobFunction]:
    """Declare ``function(ctx, **arguments)`` as the job ``name`` (on ``lane``)."""
    if lane not in LANES:
        raise ValueError(f"unknown lane {lane!r}")

    def register(function: JobFunction) -> JobFunction:
        _JOBS[name] = JobSpec(name, function, retries, retry_delay_seconds, lane)
        return function

    return register


def periodic_job(
    name: str, *, minute: str = "*", hour: str = "*"
) -> Callable[[JobFunction], JobFunction]:
    """Declare ``function(ctx)`` to run on a cron schedule (minute and hour fields)."""

    def register(function: JobFunction) -> JobFunction:
        _JOBS[name] = JobSpec(name, function, retries=0, every_minute=minute, every_hour=hour)
        return function

    return register


def registered_jobs() -> dict[str, JobSpec]:
    for module in TASK_MODULES:
        importlib.import_module(module)
    return dict(_JOBS)


def lookup(name: str) -> JobSpec:
    jobs = registered_jobs()
    if name not in jobs:
        raise KeyError(f"unknown job {name!r}; known: {', '.join(sorted(jobs))}")
    return jobs[name]
