"""Downloads asked for ahead: a Space of this instance that has not ended yet, to be
made into a file for an account once its replay is out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from airspace.db.base import Base, UTCDateTime


class PendingDownload(Base):
    """``user`` is told when ``space`` starts, and gets its recording in ``format`` once
    the replay is published."""

    __tablename__ = "pending_downloads"
    __table_args__ = (UniqueConstraint("user_id", "space_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    space_id: Mapped[str] = mapped_column(
        String(13), ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    format: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
