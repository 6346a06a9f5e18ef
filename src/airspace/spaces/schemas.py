"""Space request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from airspace.accounts.schemas import UserOut
from airspace.inputs import InputModel, Timestamp, whole_number
from airspace.recordings.schemas import RecordingOut
from airspace.spaces.models import SpaceState
from airspace.text import PlainText, VisibleText

TicketCapacity = Annotated[int, Field(ge=1, le=100_000), BeforeValidator(whole_number)]


class SpaceCreate(InputModel):
    title: VisibleText = Field(min_length=1, max_length=70)
    description: PlainText = Field(default="", max_length=280)
    topics: list[PlainText] = Field(default_factory=list, max_length=3)
    record: bool = False
    scheduled_start: Timestamp | None = None
    ticket_capacity: TicketCapacity | None = None


class SpaceUpdate(InputModel):
    title: VisibleText | None = Field(default=None, min_length=1, max_length=70)
    description: PlainText | None = Field(default=None, max_length=280)
    topics: list[PlainText] | None = Field(default=None, max_length=3)
    record: bool | None = None
    scheduled_start: Timestamp | None = None
    ticket_capacity: TicketCapacity | None = None


class SpaceOut(BaseModel):
    id: str
    url: str
    title: str
    description: str
    topics: list[str]
    host: UserOut
    state: SpaceState
    record: bool
    recording_indicator: bool = Field(description="True while a recorded Space is live.")
    live_playlist_url: str | None = Field(
        default=None, description="The HLS program while the Space is live."
    )
    participant_count: int = Field(default=0, description="Unique people in the live room.")
    peak_listeners: int = Field(default=0, description="Most listeners at once while live.")
    replay_count: int = Field(default=0, description="Plays of the recording past 10 s.")
    duration_seconds: float | None = Field(
        default=None, description="The replay's length (after the host's start offset)."
    )
    scheduled_start: datetime | None
    created_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    ticket_capacity: int | None
    tickets_issued: int | None
    recording: RecordingOut | None
    clip_count: int = Field(default=0, description="Clips made of the recording.")
    share_count: int = Field(default=0, description="Times the Space was shared on this instance.")


class SpacePage(BaseModel):
    items: list[SpaceOut]
    next_cursor: str | None


class TicketRequest(InputModel):
    username: str | None = Field(
        default=None, max_length=30, description="Host only: issue the ticket to this user."
    )


class TicketOut(BaseModel):
    space_id: str
    username: str
    created_at: datetime


Listing = Literal["live", "upcoming", "recorded"]
