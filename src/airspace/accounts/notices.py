"""Notices to an account's owner: what happened to their account while they were away
(sign-ins paused after too many failed attempts). Shown on every page and through the
API until dismissed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.accounts.models import AccountNotice, User
from airspace.errors import NotFound

SHOWN = 5
"""The most notices shown at once (the newest)."""


def post(session: Session, user: User, message: str, now: datetime) -> AccountNotice:
    notice = AccountNotice(user_id=user.id, created_at=now, message=message)
    session.add(notice)
    return notice


def lockout_message(failures: int, address: str, pause: timedelta, now: datetime) -> str:
    minutes = round(pause.total_seconds() / 60)
    return (
        f"{failures} sign-ins to your account failed, the last from {address} at "
        f"{now:%Y-%m-%d %H:%M} UTC, so signing in was paused for {minutes} minutes. "
        "If that was not you, someone may be guessing your password: make sure it is "
        "one you use nowhere else."
    )


def open_notices(session: Session, user: User) -> list[AccountNotice]:
    """The notices ``user`` has not dismissed, newest first."""
    query = (
        select(AccountNotice)
        .where(AccountNotice.user_id == user.id, AccountNotice.dismissed_at.is_(None))
        .order_by(AccountNotice.created_at.desc(), AccountNotice.id.desc())
        .limit(SHOWN)
    )
    return list(session.scalars(query))


def dismiss(session: Session, user: User, notice_id: int, now: datetime) -> None:
    notice = session.get(AccountNotice, notice_id)
    if notice is None or notice.user_id != user.id:
        raise NotFound(f"no notice {notice_id}")
    notice.dismissed_at = notice.dismissed_at or now
