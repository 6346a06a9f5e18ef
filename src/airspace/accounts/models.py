"""Account tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from airspace.db.base import Base, UTCDateTime


class Role(enum.StrEnum):
    USER = "user"
    MODERATOR = "moderator"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(30), unique=True)
    username_key: Mapped[str] = mapped_column(String(30), unique=True)
    """The username in lower case: names are unique whatever their case."""
    display_name: Mapped[str] = mapped_column(String(50))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    captions_opt_out: Mapped[bool] = mapped_column(default=False)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    """Where notifications are emailed, when the instance sends email."""
    podcast_feed: Mapped[bool] = mapped_column(default=False)
    """The host publishes their public recordings as a podcast feed (MP3s open to all)."""
    bio: Mapped[str] = mapped_column(String(160), default="", server_default="")
    """A line or two about them, on their profile."""
    avatar_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """0: no picture (their initials are drawn); else the version of the uploaded one,
    which its address carries so that caches never show an old picture."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    """Set while a moderator has suspended the account: it cannot sign in or act."""
    suspension_reason: Mapped[str | None] = mapped_column(String(500), nullable=True)

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)


class UserSession(Base):
    """A browser session; the cookie carries its signed id, logout deletes the row."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token for scripts and the CLI; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Block(Base):
    """``blocker`` has blocked ``blocked``."""

    __tablename__ = "blocks"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    blocked_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccountNotice(Base):
    """Something that happened to an account that its owner should hear of (sign-ins
    paused after failed attempts), shown until they dismiss it."""

    __tablename__ = "account_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message: Mapped[str] = mapped_column(Text())
    dismissed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
