"""Recording state transitions: each a function of the stored row and the time now.

recording → processing → available → expired (window closed) or deleted (by the host)
→ purged (media gone; the row stays as a tombstone).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airspace.errors import Conflict
from airspace.recordings.models import Recording, RecordingState

HELD_STATES = frozenset({RecordingState.EXPIRED, RecordingState.DELETED, RecordingState.TAKEN_DOWN})


def media_prefix_for(space_id: str) -> str:
    return f"spaces/{space_id}/"


def begin(space_id: str, now: datetime) -> Recording:
    """The recording of a Space that has just gone live."""
    return Recording(
        space_id=space_id,
        state=RecordingState.RECORDING,
        started_at=now,
        start_offset_seconds=0.0,
        media_prefix=media_prefix_for(space_id),
    )


def _require(recording: Recording, *states: RecordingState) -> None:
    if recording.state not in states:
        allowed = " or ".join(s.value for s in states)
        raise Conflict(f"the recording is {recording.state.value}, not {allowed}")


def stop(recording: Recording, now: datetime, hold: timedelta) -> None:
    """The Space ended: media stops arriving and finalization starts."""
    _require(recording, RecordingState.RECORDING)
    recording.state = RecordingState.PROCESSING
    recording.ended_at = now
    recording.purge_after = now + hold
    if recording.duration_seconds is None:
        recording.duration_seconds = (now - recording.started_at).total_seconds()


def publish(recording: Recording, window: timedelta) -> None:
    """Finalization finished: the replay window opens, counted from the end of the Space."""
    _require(recording, RecordingState.PROCESSING)
    assert recording.ended_at is not None
    recording.state = RecordingState.AVAILABLE
    recording.available_until = recording.ended_at + window


def delete(recording: Recording, now: datetime) -> None:
    """The host deleted it: gone for listeners at once, media held for moderation."""
    _require(recording, RecordingState.PROCESSING, RecordingState.AVAILABLE, RecordingState.EXPIRED)
    recording.state = RecordingState.DELETED
    recording.deleted_at = now


def restore(recording: Recording, now: datetime) -> None:
    """A moderator restored a deleted recording: back in the window, or expired."""
    _require(recording, RecordingState.DELETED)
    recording.deleted_at = None
    in_window = recording.available_until is not None and now < recording.available_until
    recording.state = RecordingState.AVAILABLE if in_window else RecordingState.EXPIRED


def take_down(recording: Recording) -> None:
    """A moderator took it down: gone for everyone but moderators (the host too cannot
    bring it back), media held as for a delete."""
    _require(
        recording,
        RecordingState.PROCESSING,
        RecordingState.AVAILABLE,
        RecordingState.EXPIRED,
        RecordingState.DELETED,
    )
    recording.state = RecordingState.TAKEN_DOWN


def reinstate(recording: Recording, now: datetime) -> None:
    """A moderator undid a takedown: as it was before (deleted if the host had deleted
    it, else back in its window or expired)."""
    _require(recording, RecordingState.TAKEN_DOWN)
    if recording.deleted_at is not None:
        recording.state = RecordingState.DELETED
        return
    in_window = recording.available_until is not None and now < recording.available_until
    recording.state = RecordingState.AVAILABLE if in_window else RecordingState.EXPIRED


def due_transition(recording: Recording, now: datetime) -> RecordingState | None:
    """The state the clock moves this recording to now, if any."""
    if (
        recording.state is RecordingState.AVAILABLE
        and recording.available_until is not None
        and now >= recording.available_until
    ):
        return RecordingState.EXPIRED
    if (
        recording.state in HELD_STATES
        and recording.purge_after is not None
        and now >= recording.purge_after
    ):
        return RecordingState.PURGED
    return None


def expire(recording: Recording) -> None:
    _require(recording, RecordingState.AVAILABLE)
    recording.state = RecordingState.EXPIRED


def mark_purged(recording: Recording, now: datetime) -> None:
    """Record that every media object under the recording's prefix has been removed."""
    _require(recording, *HELD_STATES)
    recording.state = RecordingState.PURGED
    recording.purged_at = now


def is_listenable(recording: Recording, now: datetime) -> bool:
    return recording.state is RecordingState.AVAILABLE and (
        recording.available_until is None or now < recording.available_until
    )
