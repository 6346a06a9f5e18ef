"""Filing reports, and the moderators' queue of them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from airspace.moderation.models import Report, ReportReason, ReportStatus
from airspace.sharing import notifications
from airspace.sharing.models import NotificationKind
from airspace.spaces import services as spaces
from airspace.text import printable

MAX_DETAILS = 500
REPORT_WINDOW = timedelta(days=60)
"""Reports on a Space are taken until this long after it ended (its media is held longer)."""


def file_report(
    session: Session,
    space_id: str,
    reporter: User | None,
    listener: str,
    reason: ReportReason,
    details: str,
    at_seconds: float | None,
    now: datetime,
) -> Report:
    """Report a Space; one open report per person (account or listener session)."""
    space = spaces.get(session, space_id)
    if space.ended_at is not None and now >= space.ended_at + REPORT_WINDOW:
        raise Gone("reports on this Space closed 60 days after it ended")
    details = printable(details, "details").strip()
    if len(details) > MAX_DETAILS:
        raise Invalid(f"details must be at most {MAX_DETAILS} characters")
    if reporter is not None and reporter.id == space.host_id:
        raise Conflict("you cannot report your own Space")
    same_person = Report.listener == listener
    if reporter is not None:
        same_person = same_person | (Report.reporter_id == reporter.id)
    already = session.scalar(
        select(Report.id).where(
            Report.space_id == space.id, Report.status == ReportStatus.OPEN, same_person
        )
    )
    if already is not None:
        raise Conflict("you already reported this Space; a moderator will look at it")
    report = Report(
        space_id=space.id,
        reporter_id=reporter.id if reporter is not None else None,
        listener=listener,
        reason=reason,
        details=details,
        at_seconds=at_seconds,
        status=ReportStatus.OPEN,
        created_at=now,
    )
    session.add(report)
    session.flush()
    return report


def reports(session: Session, moderator: User, status: ReportStatus, limit: int) -> list[Report]:
    """The queue, oldest first: what has waited longest is read first."""
    if not moderator.is_moderator:
        raise Forbidden("only moderators read reports")
    return list(
        session.scalars(
            select(Report)
            .where(Report.status == status)
            .order_by(Report.created_at, Report.id)
            .limit(limit)
        )
    )


def decide(
    session: Session, moderator: User, report_id: int, status: ReportStatus, now: datetime
) -> Report:
    """Close a report: dismissed (nothing wrong) or actioned (something was done); the
    account that filed it is told."""
    if not moderator.is_moderator:
        raise Forbidden("only moderators decide on reports")
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound("no such report")
    if status is ReportStatus.OPEN:
        raise Invalid("a decision dismisses or actions a report")
    report.status = status
    if report.reporter_id is not None:
        space = spaces.get(session, report.space_id)
        outcome = "action was taken" if status is ReportStatus.ACTIONED else "it was dismissed"
        message = f"Your report on {space.title} was reviewed: {outcome}."
        link = notifications.space_link(space)
        kind = NotificationKind.REPORT
        notifications.notify(session, [report.reporter_id], kind, message, link, now)
    return report
