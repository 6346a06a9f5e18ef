"""Recording operations that touch the database and storage."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.media.constants import SAMPLE_RATE
from airspace.media.live_segmenter import StoredSegment
from airspace.recordings import lifecycle
from airspace.recordings.models import Recording, RecordingSegment, RecordingState

if TYPE_CHECKING:
    from airspace.wiring import Services


def recording_for_space(session: Session, space_id: str) -> Recording | None:
    return session.scalar(select(Recording).where(Recording.space_id == space_id))


def add_segment(services: Services, recording_id: int, segment: StoredSegment) -> None:
    """Record a segment that is already durable in storage (the live path calls this
    before any playlist names the segment)."""
    with services.sessions() as session:
        session.add(
            RecordingSegment(
                recording_id=recording_id,
                sequence=segment.sequence,
                key=segment.key,
                first_sample=segment.first_sample,
                samples=segment.samples,
                program_date_time=segment.program_date_time,
            )
        )
        session.commit()


def segments_of(session: Session, recording_id: int) -> list[RecordingSegment]:
    """The recording's segments in order."""
    return list(
        session.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.recording_id == recording_id)
            .order_by(RecordingSegment.sequence)
        )
    )


def finalize(services: Services, recording_id: int) -> None:
    """Open the replay window of a recording whose Space has ended. When media was
    recorded, its duration is what the stored segments hold."""
    with services.sessions() as session:
        recording = session.get(Recording, recording_id)
        if recording is None or recording.state is not RecordingState.PROCESSING:
            return  # already finalized, or deleted meanwhile: nothing to do
        segments = segments_of(session, recording_id)
        if segments:
            last = segments[-1]
            recording.duration_seconds = (last.first_sample + last.samples) / SAMPLE_RATE
        lifecycle.publish(recording, timedelta(days=services.settings.replay_days))
        session.commit()


def advance_all(services: Services) -> dict[str, int]:
    """Apply every transition the clock has made due; purge media of purged recordings.

    Returns counts by new state.
    """
    now = services.clock.now()
    counts = {RecordingState.EXPIRED.value: 0, RecordingState.PURGED.value: 0}
    with services.sessions() as session:
        candidates = session.scalars(
            select(Recording).where(
                Recording.state.in_(
                    [RecordingState.AVAILABLE, RecordingState.EXPIRED, RecordingState.DELETED]
                )
            )
        ).all()
        for recording in candidates:
            target = lifecycle.due_transition(recording, now)
            if target is RecordingState.EXPIRED:
                lifecycle.expire(recording)
                # An expired recording may also be past its hold already.
                target = lifecycle.due_transition(recording, now)
                counts[RecordingState.EXPIRED.value] += 1
            if target is RecordingState.PURGED:
                services.storage.delete_prefix(recording.media_prefix)
                lifecycle.mark_purged(recording, now)
                counts[RecordingState.PURGED.value] += 1
            session.commit()
    return counts
