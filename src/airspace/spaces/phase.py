"""Where a Space is in its life, as its page shows it: scheduled, live, ended, the replay
being prepared or ready, and its captions being made or ready.

Pages follow this over a WebSocket (``phase_socket``) and change in place when it moves
on, so nobody has to reload to see a Space go live, end, or get its captions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.errors import NotFound
from airspace.jobs.status import latest_run
from airspace.recordings.models import PLAYABLE, Recording, RecordingState
from airspace.spaces.models import Space, SpaceState

CAPTIONS_JOB = "captions.transcribe"


@dataclass(frozen=True)
class SpacePhase:
    view: str
    """Which version of the Space page fits: ``scheduled``, ``live``, ``replay``,
    ``canceled``, or ``ended`` followed by what became of the recording (``ended``,
    ``ended:deleted``...). The page swaps itself when this changes."""
    state: str
    recording: str | None
    captions: str | None
    """The captions job: ``queued``, ``running``, ``done``, ``failed``; None before one."""
    captions_progress: float

    def as_json(self) -> dict[str, Any]:
        return {"type": "phase", **asdict(self)}


def page_view(space_state: SpaceState, recording_state: RecordingState | None) -> str:
    if space_state is not SpaceState.ENDED:
        return space_state.value
    if recording_state in PLAYABLE:
        return "replay"
    return "ended" if recording_state is None else f"ended:{recording_state.value}"


def phase_of(session: Session, space_id: str) -> SpacePhase:
    space_state = session.scalar(select(Space.state).where(Space.id == space_id))
    if space_state is None:
        raise NotFound("no such Space")
    recording_state = session.scalar(select(Recording.state).where(Recording.space_id == space_id))
    captions = latest_run(session, CAPTIONS_JOB, space_id) if recording_state else None
    return SpacePhase(
        view=page_view(space_state, recording_state),
        state=space_state.value,
        recording=recording_state.value if recording_state else None,
        captions=captions.status.value if captions else None,
        captions_progress=round(captions.progress, 2) if captions else 0.0,
    )
