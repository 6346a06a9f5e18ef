"""Background jobs of recordings."""

from __future__ import annotations

from airspace.jobs.registry import JobContext, job, periodic_job
from airspace.recordings import services


@job("recordings.finalize", retries=5, retry_delay_seconds=2.0)
def finalize_recording(ctx: JobContext, *, recording_id: int) -> None:
    services.finalize(ctx.services, recording_id)


@periodic_job("recordings.advance_lifecycle", minute="*")
def advance_lifecycle(ctx: JobContext) -> None:
    services.advance_all(ctx.services)
