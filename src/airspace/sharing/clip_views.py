"""Clips over the API, and the doors to their files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from airspace.accounts.auth import CurrentUser, OptionalUser
from airspace.accounts.models import User
from airspace.api_contract import errors
from airspace.captions.transcript import webvtt
from airspace.delivery.access import replay_grant
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import NotFound
from airspace.inputs import InputModel
from airspace.jobs.schemas import JobRunOut
from airspace.jobs.status import latest_run
from airspace.sharing import clips
from airspace.sharing.models import Clip, ClipState
from airspace.text import VisibleText
from airspace.wiring import Services

router = APIRouter(tags=["clips"])
doors = APIRouter(include_in_schema=False)
MAKE_CLIP = "sharing.make_clip"


class ClipCreate(InputModel):
    start: float = Field(ge=0, le=86_400 * 2, description="Seconds into the replay.")
    end: float = Field(ge=0, le=86_400 * 2, description="5 to 60 seconds after start.")
    title: Annotated[VisibleText, Field(min_length=1, max_length=clips.MAX_TITLE)]


class ClipFiles(BaseModel):
    m4a: str
    mp3: str
    audiogram_square: str
    audiogram_portrait: str
    captions: str


class ClipOut(BaseModel):
    id: str
    space_id: str
    title: str
    creator: str
    start_seconds: float = Field(description="Where the clip starts in the replay.")
    duration_seconds: float
    state: ClipState
    error: str
    url: str
    files: ClipFiles | None = Field(description="Set once the clip is made.")
    job: JobRunOut | None


def clip_out(services: Services, db: DbDep, clip: Clip) -> ClipOut:
    base = f"{services.settings.public_url}/i/clips/{clip.id}"
    run = latest_run(db, MAKE_CLIP, clip.id)
    ready = clip.state is ClipState.READY
    return ClipOut(
        id=clip.id,
        space_id=clip.space_id,
        title=clip.title,
        creator=clip.creator.username,
        start_seconds=round(clip.start_seconds - clip.recording.start_offset_seconds, 3),
        duration_seconds=clip.duration_seconds,
        state=clip.state,
        error=clip.error,
        url=base,
        files=ClipFiles(
            m4a=f"{base}/clip.m4a",
            mp3=f"{base}/clip.mp3",
            audiogram_square=f"{base}/audiogram-square.mp4",
            audiogram_portrait=f"{base}/audiogram-portrait.mp4",
            captions=f"{base}/captions.vtt",
        )
        if ready
        else None,
        job=JobRunOut.model_validate(run) if run is not None else None,
    )


@router.post(
    "/spaces/{space_id}/clips",
    status_code=status.HTTP_201_CREATED,
    responses=errors(403, 404, 409, 410),
)
def make_clip(
    space_id: str, body: ClipCreate, services: ServicesDep, db: DbDep, user: CurrentUser
) -> ClipOut:
    """Clip 5 to 60 seconds of the replay (times as listeners hear it, after the host's
    start time); its files are made by a job whose progress the answer carries."""
    clip = clips.create(
        db,
        space_id,
        user,
        start=body.start,
        end=body.end,
        title=body.title,
        now=services.clock.now(),
    )
    db.commit()
    services.jobs.enqueue(MAKE_CLIP, subject=clip.id, clip_id=clip.id)
    return clip_out(services, db, clip)


@router.get("/spaces/{space_id}/clips", responses=errors(403, 404, 409, 410))
def list_clips(
    space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> list[ClipOut]:
    replay_grant(db, space_id, user, services.clock.now())  # whoever may replay
    return [clip_out(services, db, c) for c in clips.of_space(db, space_id)]


@router.get("/clips/{clip_id}", responses=errors(403, 404, 409, 410))
def get_clip(clip_id: str, services: ServicesDep, db: DbDep, user: OptionalUser) -> ClipOut:
    return clip_out(services, db, clips.visible(db, clip_id, user, services.clock.now()))


@router.delete(
    "/clips/{clip_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404)
)
def delete_clip(clip_id: str, services: ServicesDep, db: DbDep, user: CurrentUser) -> None:
    clips.delete(services, db, clips.get(db, clip_id), user)
    db.commit()


@doors.get("/i/clips/{clip_id}/captions.vtt")
def clip_captions(clip_id: str, services: ServicesDep, db: DbDep, user: OptionalUser) -> Response:
    clip = clips.visible(db, clip_id, user, services.clock.now())
    return Response(webvtt(clips.cues_within(db, clip)), media_type="text/vtt; charset=utf-8")


def clip_file(
    clip_id: str, name: str, services: Services, db: DbDep, user: User | None
) -> Response:
    """A clip's file, for whoever may replay its recording: a redirect under a grant."""
    clip = clips.get(db, clip_id)
    grant, _, recording = replay_grant(db, clip.space_id, user, services.clock.now())
    if clip.state is not ClipState.READY:
        raise NotFound("the clip is still being made")
    key = clips.clip_key(clip, name).removeprefix(recording.media_prefix)
    location = services.grants.path(grant, key)
    return Response(status_code=302, headers={"Location": location, "Cache-Control": "no-store"})


def _clip_door(name: str) -> None:
    @doors.get(f"/i/clips/{{clip_id}}/{name}", name=f"clip file {name}")
    def door(clip_id: str, services: ServicesDep, db: DbDep, user: OptionalUser) -> Response:
        return clip_file(clip_id, name, services, db, user)


for _name in clips.FILES:
    _clip_door(_name)
