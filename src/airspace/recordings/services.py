"""Recording operations that touch the database and storage."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.recordings import lifecycle
from airspace.recordings.models import Recording, RecordingState

if TYPE_CHECKING:
    from airspace.wiring import Services


def recording_for_space(session: Session, space_id: str) -> Recording | None:
    return session.scalar(select(Recording).where(Recording.space_id == space_id))


def finalize(services: Services, recording_id: int) -> None:
    """Open the replay window of a recording whose Space has ended."""
    with services.sessions() as session:
        recording = session.get(Recording, recording_id)
        if recording is None or recording.state is not RecordingState.PROCESSING:
            return  # already finalized, or deleted meanwhile: nothing to do
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
