"""The audit log: every destructive or moderation action, who did it, when and why.

Written in the same transaction as the action itself, read by admins (the moderation
page, ``GET /api/v1/audit``); nothing updates or deletes an entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.moderation.models import AuditEntry

MAX_REASON = 500


def record(
    session: Session,
    actor: User,
    action: str,
    target: str,
    now: datetime,
    reason: str = "",
    **details: object,
) -> AuditEntry:
    """Add ``action`` on ``target`` by ``actor`` to the log (committed with the action)."""
    entry = AuditEntry(
        at=now,
        actor_id=actor.id,
        actor=actor.username,
        action=action,
        target=target[:60],
        reason=reason[:MAX_REASON],
        details=details,
    )
    session.add(entry)
    return entry


def entries(
    session: Session, limit: int, before: int | None = None, action: str | None = None
) -> list[AuditEntry]:
    """The newest entries first (``before`` an entry id, to page back)."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    return list(session.scalars(query))
