"""Space tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from airspace.accounts.models import User
from airspace.db.base import Base, UTCDateTime


class SpaceState(enum.StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    CANCELED = "canceled"


class Space(Base):
    __tablename__ = "spaces"

    id: Mapped[str] = mapped_column(String(13), primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(70))
    description: Mapped[str] = mapped_column(String(280), default="")
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    record: Mapped[bool] = mapped_column(default=False)
    state: Mapped[SpaceState] = mapped_column(
        Enum(
            SpaceState,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        index=True,
    )
    scheduled_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ticket_capacity: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    participant_count: Mapped[int] = mapped_column(Integer, default=0)
    """Unique people (accounts or anonymous listener sessions) who were in the live room."""
    peak_listeners: Mapped[int] = mapped_column(Integer, default=0)
    """Most listeners at once while live."""
    media_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Bumped whenever the Space's media is revoked (deleted, taken down, ticket required):
    every media grant carries the generation it was issued for and dies with it."""

    owner_node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """The node (``AIRSPACE_NODE_ID``) whose process holds the live room."""
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Until when the owner's hold on the live room counts; it renews it every few
    seconds. Past it, another node takes the room over (or ends the Space from what was
    stored)."""
    room_roster: Mapped[str | None] = mapped_column(Text, nullable=True)
    """The live room's members and their roles as JSON, saved by the owner as it renews
    its lease: what a node taking the room over starts from."""

    host: Mapped[User] = relationship(lazy="joined")

    @property
    def is_ticketed(self) -> bool:
        return self.ticket_capacity is not None


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("space_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
