"""Background jobs of sharing: making a clip's files, and emailing notifications."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from airspace.jobs.registry import JobContext, JobFailed, job, periodic_job
from airspace.media import audio_files
from airspace.media.cover import cover_art
from airspace.media.tags import FileTags
from airspace.recordings.renditions import pcm_between
from airspace.recordings.services import segments_of
from airspace.sharing import audiogram, clips, mail
from airspace.sharing.clips import clip_key
from airspace.sharing.models import Clip, ClipState

CONTENT_TYPES = {".m4a": "audio/mp4", ".mp3": "audio/mpeg", ".mp4": "video/mp4"}


@job("sharing.make_clip", retries=2, retry_delay_seconds=5.0)
def make_clip(ctx: JobContext, *, clip_id: str) -> None:
    """Cut the clip to the sample (M4A and MP3) and render its square and portrait
    audiograms with burned-in captions; store them beside the recording's media."""
    services = ctx.services
    with services.sessions() as session:
        clip = session.get(Clip, clip_id)
        if clip is None:
            raise JobFailed("the clip no longer exists")
        segments = segments_of(session, clip.recording_id)
        start, length = clip.start_seconds, clip.duration_seconds
        cues = clips.cues_within(session, clip)
        title, host = clip.title, clip.space.host.display_name
        link = f"{services.settings.public_url}/i/clips/{clip.id}"
        tags = FileTags(title, host, clip.created_at, link, cover_art(title, host))
        keys = {name: clip_key(clip, name) for name in ("clip.m4a", "clip.mp3")}
        keys |= {size: clip_key(clip, f"audiogram-{size}.mp4") for size in audiogram.SIZES}
    try:
        pcm = pcm_between(services.storage.get, segments, start, length)
        with tempfile.TemporaryDirectory(prefix="airspace-clip-") as folder:
            files = Path(folder)
            audio_files.write_m4a(pcm, files / "clip.m4a")
            audio_files.write_mp3([pcm], files / "clip.mp3")
            for fmt in ("m4a", "mp3"):
                audio_files.finish(files / f"clip.{fmt}", fmt, tags, length)
            ctx.report_progress(0.1)
            for number, size in enumerate(audiogram.SIZES):
                step = _progress_between(ctx, 0.1 + 0.45 * number, 0.45)
                audiogram.render(pcm, cues, title, host, size, files / f"{size}.mp4", step)
            for name in ("clip.m4a", "clip.mp3"):
                services.storage.put_file(keys[name], files / name, CONTENT_TYPES[name[-4:]])
            for size in audiogram.SIZES:
                services.storage.put_file(keys[size], files / f"{size}.mp4", "video/mp4")
    except ValueError as error:
        _settle(ctx, clip_id, ClipState.FAILED, str(error))
        raise JobFailed(str(error)) from None
    _settle(ctx, clip_id, ClipState.READY, "")


def _progress_between(ctx: JobContext, base: float, span: float) -> Callable[[float], None]:
    """A progress callback for one step of the job, from ``base`` over ``span``."""

    def report(fraction: float) -> None:
        ctx.report_progress(base + span * fraction)

    return report


def _settle(ctx: JobContext, clip_id: str, state: ClipState, error: str) -> None:
    with ctx.services.sessions() as session:
        clip = session.get(Clip, clip_id)
        if clip is not None:
            clip.state, clip.error = state, error
            session.commit()


@periodic_job("notifications.email", minute="*")
def email_notifications(ctx: JobContext) -> None:
    """Email what was notified since the last run, where the instance sends email."""
    mail.send_pending(ctx.services)
