"""Reports (someone tells the moderators that a Space breaks the rules) and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from airspace.db.base import Base, UTCDateTime


def _values(members: type[enum.StrEnum]) -> list[str]:
    return [m.value for m in members]


class ReportReason(enum.StrEnum):
    SPAM = "spam"
    HARASSMENT = "harassment"
    HATE = "hate"
    VIOLENCE = "violence"
    SEXUAL = "sexual"
    MISINFORMATION = "misinformation"
    OTHER = "other"


class ReportStatus(enum.StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    ACTIONED = "actioned"


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    listener: Mapped[str] = mapped_column(String(64))
    """The reporter's listener session: one open report per person per Space."""
    reason: Mapped[ReportReason] = mapped_column(
        Enum(ReportReason, native_enum=False, length=20, values_callable=_values)
    )
    details: Mapped[str] = mapped_column(Text, default="")
    at_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Where in the replay the reporter was, on the replay's clock."""
    status: Mapped[ReportStatus] = mapped_column(
        Enum(ReportStatus, native_enum=False, length=20, values_callable=_values),
        default=ReportStatus.OPEN,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One destructive or moderation action, kept for good: nothing updates or deletes
    these rows (the instance's append-only audit log)."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    actor: Mapped[str] = mapped_column(String(30))
    """The actor's username when it acted (kept if the account goes)."""
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(60))
    """What it acted on: ``space:<id>``, ``recording:<space id>``, ``user:<username>``,
    ``report:<id>``."""
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
