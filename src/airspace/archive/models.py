"""The data archive table: one zip of an account's data, built by a job."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from airspace.db.base import Base, UTCDateTime


class ArchiveState(enum.StrEnum):
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    GONE = "gone"
    """Expired after its week, or removed because a recording in it was purged."""


class Archive(Base):
    __tablename__ = "archives"

    id: Mapped[str] = mapped_column(String(13), primary_key=True)
    """Also the archive's media prefix, so the media grants open it like any media."""
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[ArchiveState] = mapped_column(
        Enum(
            ArchiveState,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        index=True,
    )
    space_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    """The Spaces whose recordings the zip holds: purging one removes the archive."""
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str] = mapped_column(Text(), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
