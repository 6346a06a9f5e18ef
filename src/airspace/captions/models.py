"""Transcript tables. Search indexes live beside them: an FTS5 table on SQLite, a GIN
index over ``to_tsvector`` on PostgreSQL (created by migration 0006)."""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from airspace.db.base import Base

SEARCH_TABLE = "transcript_search"
SEARCH_INDEX = "ix_transcript_search"


class TranscriptSegment(Base):
    """One caption cue: a speaker's words, in seconds of the whole recording."""

    __tablename__ = "transcript_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_id: Mapped[int] = mapped_column(
        ForeignKey("recordings.id", ondelete="CASCADE"), index=True
    )
    speaker_name: Mapped[str] = mapped_column(String(50))
    start_seconds: Mapped[float] = mapped_column(Float)
    end_seconds: Mapped[float] = mapped_column(Float)
    body: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    """What search indexes: this cue and the next one, so a phrase that runs across a
    cue boundary is found (at the cue where it starts)."""
