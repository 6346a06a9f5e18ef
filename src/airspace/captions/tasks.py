"""Background jobs of captions."""

from __future__ import annotations

from airspace.captions.services import caption_recording
from airspace.jobs.registry import JobContext, job


@job("captions.transcribe", retries=3, retry_delay_seconds=10.0)
def transcribe(ctx: JobContext, *, recording_id: int) -> None:
    cues = caption_recording(ctx.services, recording_id, ctx.report_progress)
    if ctx.job_id is not None:
        from airspace.jobs.status import set_result

        set_result(ctx.services, ctx.job_id, {"cues": cues})
