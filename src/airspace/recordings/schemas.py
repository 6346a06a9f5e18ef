"""Recording response bodies."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from airspace.recordings.models import RecordingState


class RecordingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    state: RecordingState
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None
    start_offset_seconds: float
    available_until: datetime | None
    deleted_at: datetime | None
