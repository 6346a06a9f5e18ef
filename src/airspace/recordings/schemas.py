"""Recording request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from airspace.inputs import InputModel
from airspace.jobs.schemas import JobRunOut
from airspace.recordings.models import RecordingState
from airspace.text import VisibleText


class RecordingOut(BaseModel):
    state: RecordingState
    started_at: datetime
    ended_at: datetime | None
    duration_seconds: float | None = Field(description="The whole recording, in seconds.")
    start_offset_seconds: float = Field(description="Where the replay starts (set by the host).")
    clips_allowed: bool = Field(description="Whether listeners may make clips.")
    downloads_allowed: bool = Field(description="Whether listeners may download the files.")
    playable_seconds: float | None = Field(
        description="What listeners hear: the duration after the start offset."
    )
    available_until: datetime | None
    deleted_at: datetime | None
    replay_count: int
    playlist_url: str | None = Field(description="The replay: an HLS VOD playlist.")
    master_url: str | None = Field(description="The whole replay as one MPEG-TS file.")
    waveform_url: str | None
    speakers_url: str | None
    hls_master_url: str | None = Field(
        description="The replay with its captions as an HLS subtitles rendition."
    )
    captions_url: str | None = Field(description="WebVTT with speaker voices, for <track>.")
    transcript_url: str | None = Field(description="Podcasting 2.0 JSON transcript.")
    captions: JobRunOut | None = Field(
        description="The captions job: queued, running with progress, done, or failed."
    )


class RecordingSettings(InputModel):
    """What the host changes on a recording; a field left out stays as it is."""

    start_offset_seconds: float | None = Field(default=None, ge=0, le=86_400 * 2)
    clips_allowed: bool | None = Field(
        default=None, description="Whether listeners may make clips of the recording."
    )
    downloads_allowed: bool | None = Field(
        default=None, description="Whether listeners may download the recording's files."
    )


class PlayProgress(InputModel):
    position_seconds: float = Field(ge=0, le=86_400 * 2)


class PlayCounted(BaseModel):
    counted: bool
    replay_count: int


class Waveform(BaseModel):
    peaks_per_second: int
    start_offset_seconds: float
    peaks: list[float] = Field(description="Loudest level of each 100 ms, 0 to 1.")


class SpeakerTurnOut(BaseModel):
    speaker: str
    username: str | None
    start: float
    end: float


class SpeakerTimeline(BaseModel):
    start_offset_seconds: float
    turns: list[SpeakerTurnOut] = Field(description="Seconds of the replay (after the offset).")


class RenditionRequest(InputModel):
    format: Literal["m4a", "mp3", "wav"] = Field(
        description="M4A for anyone who may replay; MP3 and WAV for those who may download."
    )


class RenditionOut(BaseModel):
    format: str
    status: Literal["ready", "queued", "running", "failed"]
    url: str = Field(description="Where the file is served once ready.")
    job_id: str | None = None
    progress: float | None = None
    error: str | None = None


class ChapterIn(InputModel):
    start: float = Field(ge=0, le=86_400 * 2, description="Seconds into the replay.")
    title: Annotated[VisibleText, Field(min_length=1, max_length=100)]


class ChaptersIn(InputModel):
    chapters: list[ChapterIn] = Field(
        max_length=100,
        description="The first starts at 0; an empty list restores the automatic ones.",
    )


class ChapterOut(BaseModel):
    start: float
    title: str


class ChaptersOut(BaseModel):
    edited: bool = Field(description="Whether the host set them (else made from who spoke when).")
    chapters: list[ChapterOut] = Field(description="On the replay's clock.")


class SpeakerTrackOut(BaseModel):
    username: str
    speaker: str = Field(description="The name they spoke under.")
    seconds: float = Field(description="The track's length; every track starts at 0.")
    size_bytes: int
    url: str = Field(description="The Ogg Opus file (a redirect to it, for the host).")


class SpeakerTracksOut(BaseModel):
    """Each speaker's own voice, one file each, all on the recording's timeline: drop
    them in at 0 in an editor and they line up."""

    tracks: list[SpeakerTrackOut]
