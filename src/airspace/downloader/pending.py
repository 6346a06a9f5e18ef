"""Downloads asked for ahead: an account asks for a Space of this instance that has not
ended yet, is told when it starts, and gets the file once its replay is published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.downloader.models import PendingDownload
from airspace.errors import Conflict, NotFound
from airspace.recordings import services as recordings
from airspace.sharing import notifications
from airspace.sharing.models import NotificationKind
from airspace.spaces import services as spaces
from airspace.spaces.models import Space, SpaceState
from airspace.wiring import Services

WAITABLE = (SpaceState.SCHEDULED, SpaceState.LIVE)


def space_url(public_url: str, space_id: str) -> str:
    return f"{public_url.rstrip('/')}/i/spaces/{space_id}"


def ask(session: Session, space: Space, user: User, fmt: str, now: datetime) -> PendingDownload:
    """Ask for ``space`` in ``fmt`` once it ends (asking again changes the format)."""
    if space.state is SpaceState.CANCELED:
        raise Conflict("this Space was canceled")
    if space.state not in WAITABLE:
        raise Conflict("this Space has ended; download it now")
    if not space.record:
        raise Conflict("this Space is not being recorded, so there will be nothing to download")
    if space.is_ticketed and not spaces.has_ticket(session, space, user):
        raise Conflict("this Space's recording is for ticket holders")
    recording = recordings.recording_for_space(session, space.id)
    if recording is not None and not recordings.may_download(space, recording, user):
        # Before it starts there is no say yet: the download checks again once it ends.
        raise Conflict("the host has not allowed listeners to download this Space")
    pending = session.scalar(
        select(PendingDownload).where(
            PendingDownload.user_id == user.id, PendingDownload.space_id == space.id
        )
    )
    if pending is None:
        pending = PendingDownload(user_id=user.id, space_id=space.id, created_at=now)
        session.add(pending)
    pending.format = fmt
    return pending


def withdraw(session: Session, space_id: str, user: User) -> None:
    """Take back a request; 404 when there is none."""
    result = session.execute(
        delete(PendingDownload).where(
            PendingDownload.user_id == user.id, PendingDownload.space_id == space_id
        )
    )
    if not getattr(result, "rowcount", 0):
        raise NotFound("you have not asked for this Space")


def of_user(session: Session, user: User) -> list[tuple[PendingDownload, Space]]:
    """``user``'s requests, the soonest Space first."""
    rows = session.execute(
        select(PendingDownload, Space)
        .join(Space, Space.id == PendingDownload.space_id)
        .where(PendingDownload.user_id == user.id)
        .order_by(Space.scheduled_start, PendingDownload.id)
    )
    return [(pending, space) for pending, space in rows.tuples()]


def _askers(session: Session, space_id: str) -> list[PendingDownload]:
    query = select(PendingDownload).where(PendingDownload.space_id == space_id)
    return list(session.scalars(query))


def tell_started(session: Session, space: Space, now: datetime) -> None:
    """``space`` went live: everyone who asked for it hears so."""
    for pending in _askers(session, space.id):
        notifications.notify(
            session,
            [pending.user_id],
            NotificationKind.LIVE,
            f"{space.title} has started; your {pending.format.upper()} will be ready when it ends",
            notifications.space_link(space),
            now,
        )


def drop_unfulfillable(session: Session, space: Space, why: str, now: datetime) -> None:
    """``space`` will have no recording (canceled, not recorded): tell and forget."""
    askers = _askers(session, space.id)
    for pending in askers:
        session.delete(pending)
    notifications.notify(
        session,
        [pending.user_id for pending in askers],
        NotificationKind.READY,
        f"{space.title} {why}, so there is nothing to download",
        notifications.space_link(space),
        now,
    )


def start_downloads(services: Services, space_id: str) -> list[str]:
    """The replay of ``space_id`` is published: start each asked-for download (the job
    tells its account when the file is ready). Returns the job ids."""
    with services.sessions() as session:
        askers = _askers(session, space_id)
        wanted = [(pending.user_id, pending.format) for pending in askers]
        for pending in askers:
            session.delete(pending)
        session.commit()
    url = space_url(services.settings.public_url, space_id)
    return [
        services.jobs.enqueue(
            "downloads.fetch", subject=url[:100], url=url, fmt=fmt, for_user=uid, notify=True
        )
        for uid, fmt in wanted
    ]
