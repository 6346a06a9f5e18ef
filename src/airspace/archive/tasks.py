"""Background jobs of data archives: building one, and removing those past their week."""

from __future__ import annotations

import tempfile
from pathlib import Path

from airspace.accounts.models import User
from airspace.archive import builder, services
from airspace.archive.models import Archive, ArchiveState
from airspace.jobs.registry import JobContext, JobFailed, job, periodic_job
from airspace.sharing import notifications
from airspace.sharing.models import NotificationKind


@job("archive.build", retries=0)
def build_archive(ctx: JobContext, *, archive_id: str) -> None:
    """Gather the account's data, write the zip to a file, store it, and tell its owner."""
    with ctx.services.sessions() as session:
        archive = session.get(Archive, archive_id)
        user = session.get(User, archive.user_id) if archive is not None else None
        if archive is None or user is None or archive.state is not ArchiveState.BUILDING:
            raise JobFailed("the archive is no longer asked for")
        contents = builder.gather(session, user)
        archive.space_ids = sorted(contents.media)
        session.commit()
    now = ctx.services.clock.now()
    with tempfile.TemporaryDirectory(prefix="airspace-archive-") as folder:
        path = Path(folder) / "airspace-data.zip"
        try:
            size = builder.write(contents, ctx.services.storage, path, now, ctx.report_progress)
        except Exception as error:  # told to its owner, who may ask again
            _failed(ctx, archive_id, f"{type(error).__name__}: {error}")
            raise JobFailed(str(error)) from error
        with ctx.services.sessions() as session:
            archive = session.get(Archive, archive_id)
            if archive is None or archive.state is not ArchiveState.BUILDING:
                return  # removed while it was being built (a recording in it was purged)
            ctx.services.storage.put_file(services.archive_key(archive), path, "application/zip")
            done = ctx.services.clock.now()
            archive.state, archive.size = ArchiveState.READY, size
            archive.ready_at, archive.expires_at = done, done + services.KEPT_FOR
            notifications.notify(
                session,
                [archive.user_id],
                NotificationKind.READY,
                "Your data archive is ready to download (for 7 days).",
                "/settings#archive",
                done,
            )
            session.commit()


def _failed(ctx: JobContext, archive_id: str, error: str) -> None:
    with ctx.services.sessions() as session:
        archive = session.get(Archive, archive_id)
        if archive is not None and archive.state is ArchiveState.BUILDING:
            archive.state, archive.error = ArchiveState.FAILED, error
            session.commit()


@periodic_job("archive.expire", minute="*/10")
def expire_archives(ctx: JobContext) -> None:
    services.expire_due(ctx.services)
