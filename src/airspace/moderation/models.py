"""A report: someone tells the moderators that a Space breaks the rules."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, Integer, String, Text
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
