"""Jobs about jobs: a run whose worker died is put back on the queue."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from airspace.jobs import status
from airspace.jobs.registry import JobContext, periodic_job

if TYPE_CHECKING:
    from airspace.config import Settings
    from airspace.wiring import Services

logger = logging.getLogger(__name__)

MISSED_BEATS = 3
"""A running job whose heartbeat stopped for this many beats lost its worker."""


def stalled_after(settings: Settings) -> timedelta:
    return timedelta(seconds=MISSED_BEATS * settings.job_heartbeat_seconds)


@periodic_job("jobs.requeue_stalled")
def requeue_stalled(ctx: JobContext) -> None:
    """Every minute: run again every job whose worker stopped beating (killed, crashed,
    its machine gone). Jobs are idempotent, so running one twice is harmless."""
    requeue_stalled_runs(ctx.services)


def requeue_stalled_runs(services: Services) -> int:
    """Put every job that lost its worker back on the queue (also done by a worker as it
    starts, so a restarted worker picks up what it was doing); how many."""
    runs = status.claim_stalled(services, services.clock.now() - stalled_after(services.settings))
    for run in runs:
        logger.warning("job %s (%s) lost its worker; queued again", run.name, run.id)
        services.jobs.requeue(run.id, run.name, dict(run.arguments))
    return len(runs)
