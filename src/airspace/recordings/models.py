"""Recording tables."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from airspace.db.base import Base, UTCDateTime


class RecordingState(enum.StrEnum):
    RECORDING = "recording"
    PROCESSING = "processing"
    AVAILABLE = "available"
    EXPIRED = "expired"
    DELETED = "deleted"
    TAKEN_DOWN = "taken_down"
    """Held by the moderators (not the host's delete): only moderators can reinstate it."""
    PURGED = "purged"


PLAYABLE = frozenset({RecordingState.PROCESSING, RecordingState.AVAILABLE})
"""States whose replay is offered (while processing, the player says it is being prepared)."""


class Recording(Base):
    """The recording of one Space; the row outlives its media as a tombstone."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    space_id: Mapped[str] = mapped_column(ForeignKey("spaces.id", ondelete="CASCADE"), unique=True)
    state: Mapped[RecordingState] = mapped_column(
        Enum(
            RecordingState,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        index=True,
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    duration_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    start_offset_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    clips_allowed: Mapped[bool] = mapped_column(default=True)
    """The host lets listeners clip the recording."""
    downloads_allowed: Mapped[bool] = mapped_column(default=False)
    """The host lets listeners download the recording's files (the host always may)."""
    available_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    purge_after: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    media_prefix: Mapped[str] = mapped_column(String(200))
    replay_count: Mapped[int] = mapped_column(Integer, default=0)


class RecordingSegment(Base):
    """One stored HLS segment of a recording, in order: the replay is built from these."""

    __tablename__ = "recording_segments"
    __table_args__ = (UniqueConstraint("recording_id", "sequence"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    sequence: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(300))
    first_sample: Mapped[int] = mapped_column(BigInteger)
    samples: Mapped[int] = mapped_column(Integer)
    program_date_time: Mapped[datetime] = mapped_column(UTCDateTime())
    peaks: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    """Waveform: the loudest sample of each 100 ms starting in the segment, 0 to 255."""
    discontinuity: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The first segment a node stored after taking the room over: audio is missing
    before it (playlists mark it with ``#EXT-X-DISCONTINUITY``)."""


class SpeakerTurn(Base):
    """One stretch of one speaker talking, in seconds from the start of the recording."""

    __tablename__ = "speaker_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    speaker_name: Mapped[str] = mapped_column(String(50))
    start_seconds: Mapped[float] = mapped_column(Float)
    end_seconds: Mapped[float] = mapped_column(Float)


class SpeakerTrack(Base):
    """One speaker's own voice through the whole recording (Ogg Opus, on the recording's
    timeline from its start): for captions and for the host's multitrack download."""

    __tablename__ = "speaker_tracks"
    __table_args__ = (UniqueConstraint("recording_id", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    username: Mapped[str] = mapped_column(String(50))
    speaker_name: Mapped[str] = mapped_column(String(50))
    key: Mapped[str] = mapped_column(String(300))
    size_bytes: Mapped[int] = mapped_column(Integer)
    seconds: Mapped[float] = mapped_column(Float)


class ReplayPlay(Base):
    """A counted play: one per listener session per 30 minutes."""

    __tablename__ = "replay_plays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    listener: Mapped[str] = mapped_column(String(64))
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecordingChapter(Base):
    """A chapter the host set (rename, add, remove); without any, chapters are made from
    the speaker turns and silences."""

    __tablename__ = "recording_chapters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    start_seconds: Mapped[float] = mapped_column(Float)
    """On the recording's own clock (not moved by the start time)."""
    title: Mapped[str] = mapped_column(String(100))
