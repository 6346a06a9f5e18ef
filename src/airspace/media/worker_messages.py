"""What the server process and a media worker say to each other over their pipe.

The server sends commands, each with a request number the worker's ``Reply`` carries
back; the worker sends what its rooms produce as it comes (stored segments, activity,
link quality, a lost speaker, a failed room; program frames and track parts only for
rooms opened without a SegmentPlan, which store nothing), several at once as a
``Batch`` when they pile up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from airspace.media.activity import ActivityChange
from airspace.media.link_quality import LinkQuality
from airspace.media.program_recorder import SegmentPlan, SegmentStored
from airspace.media.speaker_tracks import TrackPart

# -- server → worker ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenRoom:
    request: int
    room: str
    tracks: bool
    segments: SegmentPlan | None = None


@dataclass(frozen=True, slots=True)
class AddSpeaker:
    request: int
    room: str
    speaker: str
    offer_sdp: str


@dataclass(frozen=True, slots=True)
class RemoveSpeaker:
    request: int
    room: str
    speaker: str


@dataclass(frozen=True, slots=True)
class SetMuted:
    request: int
    room: str
    speaker: str
    muted: bool


@dataclass(frozen=True, slots=True)
class CloseRoom:
    request: int
    room: str
    ended_at: float | None = None
    abandon: bool = False


@dataclass(frozen=True, slots=True)
class Shutdown:
    """Close every room and exit."""


Command = OpenRoom | AddSpeaker | RemoveSpeaker | SetMuted | CloseRoom
"""A command the worker answers with a ``Reply``."""

# -- worker → server ------------------------------------------------------------------

Refusal = Literal["offer", "overloaded", "error"]
"""Why a command failed: an offer the engine cannot answer (400), the engine too busy
(503), anything else (500)."""


@dataclass(frozen=True, slots=True)
class Reply:
    request: int
    result: Any = None
    refused: Refusal | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ProgramFrame:
    room: str
    pcm: bytes
    """20 ms of the program, float32 mono at 48 kHz."""


@dataclass(frozen=True, slots=True)
class Stored:
    room: str
    stored: SegmentStored


@dataclass(frozen=True, slots=True)
class Activity:
    room: str
    change: ActivityChange


@dataclass(frozen=True, slots=True)
class Link:
    room: str
    speaker: str
    quality: LinkQuality


@dataclass(frozen=True, slots=True)
class Track:
    room: str
    part: TrackPart


@dataclass(frozen=True, slots=True)
class SpeakerLost:
    room: str
    speaker: str


@dataclass(frozen=True, slots=True)
class RoomFailed:
    room: str
    reason: str


RoomEvent = ProgramFrame | Stored | Activity | Link | Track | SpeakerLost | RoomFailed
Event = Reply | RoomEvent


@dataclass(frozen=True, slots=True)
class Batch:
    events: list[Event]
