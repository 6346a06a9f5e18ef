"""In-app notifications: stored per account, counted while unread, and rung to the
account's open pages once the transaction that made them commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.sharing import doorbell
from airspace.sharing.follows import follower_ids
from airspace.sharing.models import Notification, NotificationKind
from airspace.spaces.models import Space

SHOWN = 50
"""The most notifications listed at once (the newest)."""


def notify(
    session: Session,
    user_ids: Iterable[int],
    kind: NotificationKind,
    message: str,
    link: str,
    now: datetime,
) -> int:
    """Store one notification per user; returns how many were stored."""
    ids = sorted(set(user_ids))
    session.add_all(
        Notification(user_id=i, kind=kind, message=message, link=link, created_at=now) for i in ids
    )
    doorbell.ring_later(session, ids)
    return len(ids)


def space_link(space: Space) -> str:
    return f"/i/spaces/{space.id}"


def tell_followers(session: Session, space: Space, kind: NotificationKind, now: datetime) -> int:
    """Notify the host's followers that ``space`` went live, was scheduled, or that its
    recording can be replayed."""
    host = session.get(User, space.host_id)
    name = host.display_name if host is not None else "A host you follow"
    if kind is NotificationKind.LIVE:
        message = f"{name} is live: {space.title}"
    elif kind is NotificationKind.SCHEDULED and space.scheduled_start is not None:
        message = f"{name} scheduled {space.title} for {space.scheduled_start:%b %d, %H:%M} UTC"
    else:
        message = f"{name}'s recording of {space.title} is ready to replay"
    return notify(
        session, follower_ids(session, space.host_id), kind, message, space_link(space), now
    )


def recent(session: Session, user: User, limit: int = SHOWN) -> list[Notification]:
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def unread_count(session: Session, user_id: int) -> int:
    query = select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)
    )
    return session.scalar(query) or 0


def mark_read(session: Session, user: User, up_to: int | None, now: datetime) -> int:
    """Mark read every unread notification of ``user`` (up to id ``up_to`` when given, so
    one that arrived while the list was on screen stays unread). Returns how many."""
    query = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if up_to is not None:
        query = query.where(Notification.id <= up_to)
    result = session.execute(query.values(read_at=now))
    doorbell.ring_later(session, [user.id])  # other open pages update their count
    return int(getattr(result, "rowcount", 0) or 0)
