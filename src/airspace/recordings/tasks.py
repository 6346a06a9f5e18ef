"""Background jobs of recordings."""

from __future__ import annotations

from airspace.downloader import pending
from airspace.jobs.registry import JobContext, JobFailed, job, periodic_job
from airspace.jobs.status import set_result
from airspace.recordings import renditions, services, speaker_tracks
from airspace.recordings.models import Recording


@job("recordings.finalize", retries=5, retry_delay_seconds=2.0)
def finalize_recording(ctx: JobContext, *, recording_id: int) -> None:
    # The tracks first: the captions job that publishing queues transcribes them.
    speaker_tracks.assemble(ctx.services, recording_id)
    space_id = services.finalize(ctx.services, recording_id)
    if space_id is not None:
        pending.start_downloads(ctx.services, space_id)


@periodic_job("recordings.advance_lifecycle", minute="*")
def advance_lifecycle(ctx: JobContext) -> None:
    services.advance_all(ctx.services)


@job("recordings.render", retries=3, retry_delay_seconds=5.0)
def render_rendition(ctx: JobContext, *, recording_id: int, format: str, offset: float) -> None:
    """Make an M4A, MP3 or WAV file of the replay from ``offset`` seconds, tagged."""
    with ctx.services.sessions() as session:
        recording = session.get(Recording, recording_id)
        if recording is None:
            raise JobFailed("the recording no longer exists")
        segments = services.segments_of(session, recording_id)
        tags = renditions.tags_of(session, ctx.services.settings.public_url, recording)
        session.expunge_all()
    key = renditions.render(
        ctx.services, recording, segments, format, offset, ctx.report_progress, tags
    )
    if ctx.job_id is not None:
        set_result(ctx.services, ctx.job_id, {"key": key})
