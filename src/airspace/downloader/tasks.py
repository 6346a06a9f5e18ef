"""Downloads for the web page, run as background jobs on the server."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from airspace.accounts.models import User
from airspace.downloader.address_guard import AddressGuard
from airspace.downloader.errors import DownloadError
from airspace.downloader.pipeline import DownloadOptions, download_async
from airspace.downloader.progress import Progress
from airspace.downloader.sources import own_space_id
from airspace.errors import AirspaceError
from airspace.jobs.models import JobRun, JobStatus
from airspace.jobs.registry import DOWNLOADS_LANE, JobContext, JobFailed, job, periodic_job
from airspace.media.tags import file_name
from airspace.recordings.renditions import render, rendition_key, tags_of
from airspace.recordings.replay import total_seconds
from airspace.recordings.services import replayable, require_download, segments_of
from airspace.sharing import notifications
from airspace.sharing.models import NotificationKind

LINK_LIFETIME = timedelta(hours=1)
CONTENT_TYPES = {"mp3": "audio/mpeg", "m4a": "audio/mp4"}
PROGRESS_INTERVAL_SECONDS = 0.5


@job("downloads.fetch", retries=0, lane=DOWNLOADS_LANE)
def fetch_for_web(
    ctx: JobContext, *, url: str, fmt: str, for_user: int | None = None, notify: bool = False
) -> None:
    """Download ``url`` on a user's behalf, guarded and capped; keep the file for an hour.
    ``for_user``: the signed-in account that asked (a Space of this instance is theirs to
    download when they may), told when the file is ready, or is not, if ``notify``."""
    try:
        title = _fetch(ctx, url, fmt, for_user)
    except JobFailed as exc:
        if notify and for_user is not None:
            _tell(ctx, for_user, f"Your {fmt.upper()} could not be made: {exc}")
        raise
    if notify and for_user is not None:
        _tell(ctx, for_user, f"Your {fmt.upper()} of {title} is ready to download")


def _tell(ctx: JobContext, user_id: int, message: str) -> None:
    with ctx.services.sessions() as session:
        link = f"/download?job={ctx.job_id}"
        now = ctx.services.clock.now()
        notifications.notify(session, [user_id], NotificationKind.READY, message, link, now)
        session.commit()


def _fetch(ctx: JobContext, url: str, fmt: str, user_id: int | None) -> str:
    """The download itself; returns the Space's title."""
    services = ctx.services
    settings = services.settings
    space_id = own_space_id(url, settings.public_url)
    if space_id is not None:
        return _from_own_storage(ctx, space_id, fmt, user_id)
    scratch = settings.data_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(dir=scratch, prefix="download-"))
    last_report = 0.0

    def progress(state: Progress) -> None:
        nonlocal last_report
        now = time.monotonic()
        if now - last_report >= PROGRESS_INTERVAL_SECONDS:
            last_report = now
            ctx.report_progress(0.99 * state.fraction)

    options = DownloadOptions(
        output_template=str(workdir / "%(host)s - %(title)s (%(date)s).%(ext)s"),
        format=fmt,
        guard=AddressGuard(settings.download_allow_hosts),
        max_bytes=settings.download_max_mb * 2**20,
        max_seconds=settings.download_max_minutes * 60.0,
        workers=1,
        min_bytes_per_second=settings.download_min_kbps * 1024,
    )
    limit = settings.download_timeout_minutes * 60.0
    try:
        try:
            result = asyncio.run(asyncio.wait_for(download_async(url, options, progress), limit))
        except TimeoutError:
            raise JobFailed(
                f"the download took longer than {settings.download_timeout_minutes} minutes; "
                "the source is too slow"
            ) from None
        key = f"downloads/{ctx.job_id}/audio.{fmt}"  # the file name people see is kept aside
        services.storage.put_file(key, result.path, CONTENT_TYPES.get(fmt))
    except DownloadError as exc:
        raise JobFailed(exc.message) from None
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    assert ctx.job_id is not None
    from airspace.jobs.status import set_result

    set_result(
        services,
        ctx.job_id,
        {
            "file_key": key,
            "filename": result.path.name,
            "duration": result.duration,
            "warnings": result.warnings,
            "title": result.title,
            "host": result.host,
            "expires_at": (services.clock.now() + LINK_LIFETIME).isoformat(),
        },
    )
    return result.title


def _from_own_storage(ctx: JobContext, space_id: str, fmt: str, user_id: int | None) -> str:
    """A Space of this instance: its rendition, made from storage if it is not yet, and
    kept (it is the replay's own file); for whoever may download it (``user_id``, or a
    listener without an account)."""
    services = ctx.services
    with services.sessions() as session:
        user = session.get(User, user_id) if user_id is not None else None
        try:
            space, recording = replayable(session, space_id, user, services.clock.now())
            require_download(space, recording, user)
        except AirspaceError as exc:
            raise JobFailed(exc.detail) from None
        offset = recording.start_offset_seconds
        key = rendition_key(recording, fmt, offset)
        tags = tags_of(session, services.settings.public_url, recording)
        segments = segments_of(session, recording.id)
        session.expunge_all()
    if not services.storage.exists(key):
        try:
            render(services, recording, segments, fmt, offset, ctx.report_progress, tags)
        except ValueError as exc:
            raise JobFailed(str(exc)) from None
    assert ctx.job_id is not None
    from airspace.jobs.status import set_result

    set_result(
        services,
        ctx.job_id,
        {
            "file_key": key,
            "filename": file_name(tags, fmt),
            "duration": total_seconds(segments) - offset,
            "warnings": [],
            "title": space.title,
            "host": tags.host,
            "expires_at": (services.clock.now() + LINK_LIFETIME).isoformat(),
        },
    )
    return space.title


@periodic_job("downloads.expire", minute="*/5")
def expire_downloads(ctx: JobContext) -> None:
    """Remove files of web downloads whose link has expired."""
    services = ctx.services
    cutoff = services.clock.now() - LINK_LIFETIME
    with services.sessions() as session:
        runs = session.scalars(
            select(JobRun).where(
                JobRun.name == "downloads.fetch",
                JobRun.status == JobStatus.DONE,
                JobRun.finished_at < cutoff,
            )
        ).all()
        for run in runs:
            if run.result and not run.result.get("expired"):
                services.storage.delete_prefix(f"downloads/{run.id}/")
                run.result = {**run.result, "expired": True}
        session.commit()
