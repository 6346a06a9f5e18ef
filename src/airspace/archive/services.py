"""Requesting, finding and removing data archives. One archive is built at a time per
account; a ready one is kept for a week, and goes sooner if a recording it holds is
purged (an archive never outlives the media it copied)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.archive.models import Archive, ArchiveState
from airspace.delivery.grants import Audience, Grant, Scope
from airspace.errors import Conflict, NotFound
from airspace.ids import new_base62_id
from airspace.recordings.lifecycle import media_prefix_for

if TYPE_CHECKING:
    from airspace.wiring import Services

KEPT_FOR = timedelta(days=7)
FILE_NAME = "archive/airspace-data.zip"
"""The zip's name under the archive's own media prefix (what its grant opens)."""


def archive_key(archive: Archive) -> str:
    return media_prefix_for(archive.id) + FILE_NAME


def request(session: Session, user: User, now: datetime) -> Archive:
    """Start a new archive of ``user``'s data; 409 while one is being built."""
    building = session.scalar(
        select(Archive.id).where(Archive.user_id == user.id, Archive.state == ArchiveState.BUILDING)
    )
    if building is not None:
        raise Conflict("your archive is already being made; you will be notified when it is ready")
    archive = Archive(
        id=new_base62_id(),
        user_id=user.id,
        state=ArchiveState.BUILDING,
        space_ids=[],
        size=0,
        error="",
        created_at=now,
    )
    session.add(archive)
    session.flush()
    return archive


def latest(session: Session, user: User) -> Archive | None:
    query = (
        select(Archive)
        .where(Archive.user_id == user.id)
        .order_by(Archive.created_at.desc(), Archive.id)
        .limit(1)
    )
    return session.scalar(query)


def download_path(services: Services, archive: Archive) -> str:
    """The zip's address under a grant that lasts as long as the archive is kept."""
    if archive.state is not ArchiveState.READY or archive.expires_at is None:
        raise NotFound("no archive is ready to download")
    expires = int(archive.expires_at.timestamp())
    grant = Grant(archive.id, Scope.ARCHIVE, Audience.PRIVATE, expires, 0)
    return services.grants.path(grant, FILE_NAME)


def remove(services: Services, archive: Archive) -> None:
    """Delete the zip and close every link to it."""
    services.storage.delete_prefix(media_prefix_for(archive.id))
    archive.state = ArchiveState.GONE
    services.generations.announce(archive.id, 1)


def expire_due(services: Services) -> int:
    """Remove the archives past their week; how many."""
    now = services.clock.now()
    with services.sessions() as session:
        due = list(
            session.scalars(
                select(Archive).where(
                    Archive.state == ArchiveState.READY, Archive.expires_at <= now
                )
            )
        )
        for archive in due:
            remove(services, archive)
        session.commit()
    return len(due)


def remove_holding(services: Services, session: Session, host_id: int, space_id: str) -> int:
    """Remove the host's archives that copied ``space_id``'s recording (it is being
    purged); how many."""
    held = [
        archive
        for archive in session.scalars(
            select(Archive).where(
                Archive.user_id == host_id,
                Archive.state.in_([ArchiveState.READY, ArchiveState.BUILDING]),
            )
        )
        if space_id in archive.space_ids
    ]
    for archive in held:
        remove(services, archive)
    return len(held)
