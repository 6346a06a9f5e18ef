"""Sharing tables: who follows whom, what each account was notified of, and the Spaces
people shared with their followers or with chosen accounts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from airspace.accounts.models import User
from airspace.db.base import Base, UTCDateTime
from airspace.recordings.models import Recording
from airspace.spaces.models import Space


class Follow(Base):
    """``follower`` hears when ``host`` goes live, schedules or publishes a Space."""

    __tablename__ = "follows"
    __table_args__ = (UniqueConstraint("follower_id", "host_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    follower_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class NotificationKind(enum.StrEnum):
    LIVE = "live"
    SCHEDULED = "scheduled"
    RECORDING = "recording"
    SHARED = "shared"
    READY = "ready"
    """An archive or a download the account asked for is ready."""
    REPORT = "report"
    """A report the account filed was decided."""


class Notification(Base):
    """One thing an account should hear of; kept until read and beyond."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[NotificationKind] = mapped_column(
        Enum(
            NotificationKind,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    message: Mapped[str] = mapped_column(Text())
    link: Mapped[str] = mapped_column(String(300), default="")
    """Where the notification leads, as a path on this instance."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """When it was emailed (also set when it will never be: no address, no mail server)."""


class Share(Base):
    """A Space someone shared, with their followers (shown in their Following feed) or
    with chosen accounts (each notified)."""

    __tablename__ = "shares"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[str] = mapped_column(
        String(13), ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    comment: Mapped[str] = mapped_column(String(280), default="")
    to_followers: Mapped[bool] = mapped_column(default=False)
    at_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    """Where in the replay the share points, when it points at a moment."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    space: Mapped[Space] = relationship(lazy="joined")
    sender: Mapped[User] = relationship(lazy="joined")


class ClipState(enum.StrEnum):
    MAKING = "making"
    READY = "ready"
    FAILED = "failed"


class Clip(Base):
    """5 to 60 seconds of a recording, with its own page, audio files and audiograms.

    Its files live under the recording's media prefix, so they are served through the
    recording's grants (hidden when it is deleted) and purged with it."""

    __tablename__ = "clips"

    id: Mapped[str] = mapped_column(String(13), primary_key=True)
    space_id: Mapped[str] = mapped_column(
        String(13), ForeignKey("spaces.id", ondelete="CASCADE"), index=True
    )
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    creator_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    start_seconds: Mapped[float] = mapped_column(Float)
    """Where the clip starts on the recording's own clock (not moved by the start time)."""
    duration_seconds: Mapped[float] = mapped_column(Float)
    state: Mapped[ClipState] = mapped_column(
        Enum(
            ClipState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]
        ),
        default=ClipState.MAKING,
    )
    error: Mapped[str] = mapped_column(Text(), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    space: Mapped[Space] = relationship(lazy="joined")
    creator: Mapped[User] = relationship(lazy="joined")
    recording: Mapped[Recording] = relationship(lazy="joined")
