"""Jobs about jobs: a run whose worker died is put back on the queue."""

from __future__ import annotations

import logging
from datetime import timedelta

from airspace.jobs import status
from airspace.jobs.registry import JobContext, periodic_job

logger = logging.getLogger(__name__)

STALLED_AFTER = timedelta(seconds=60)
"""A running job with no heartbeat for this long (six missed beats) lost its worker."""


@periodic_job("jobs.requeue_stalled")
def requeue_stalled(ctx: JobContext) -> None:
    """Every minute: run again every job whose worker stopped beating (killed, crashed,
    its machine gone). Jobs are idempotent, so running one twice is harmless."""
    services = ctx.services
    for run in status.claim_stalled(services, services.clock.now() - STALLED_AFTER):
        logger.warning("job %s (%s) lost its worker; queued again", run.name, run.id)
        services.jobs.requeue(run.id, run.name, dict(run.arguments))
