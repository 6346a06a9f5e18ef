"""Recording API: state, settings, waveform, chapters, speakers, plays, deletion."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response, status
from sqlalchemy.orm import Session

from airspace.accounts.auth import CurrentUser, OptionalUser
from airspace.accounts.listeners import listener_of, remember_listener
from airspace.api_contract import errors
from airspace.delivery.access import tracks_grant
from airspace.delivery.generations import revoke_media
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import Forbidden, Gone, NotFound
from airspace.jobs.models import JobStatus
from airspace.jobs.schemas import JobRunOut
from airspace.jobs.status import latest_run
from airspace.moderation import audit
from airspace.recordings import chapters, lifecycle, replay, speaker_tracks
from airspace.recordings import services as recordings
from airspace.recordings.models import PLAYABLE, Recording, RecordingState
from airspace.recordings.renditions import rendition_key
from airspace.recordings.schemas import (
    ChapterOut,
    ChaptersIn,
    ChaptersOut,
    PlayCounted,
    PlayProgress,
    RecordingOut,
    RecordingSettings,
    RenditionOut,
    RenditionRequest,
    SpeakerTimeline,
    SpeakerTrackOut,
    SpeakerTracksOut,
    SpeakerTurnOut,
    Waveform,
)
from airspace.spaces import services as spaces
from airspace.wiring import Services

router = APIRouter(prefix="/spaces/{space_id}/recording", tags=["recordings"])
doors = APIRouter(include_in_schema=False)
REPLAY_ERRORS = (403, 404, 409, 410)
"""What the replay's checks answer: no such recording, still live, gone, ticketed."""


def recording_out(services: Services, session: Session, recording: Recording) -> RecordingOut:
    base = f"{services.settings.public_url}/i/spaces/{recording.space_id}"
    api = f"{services.settings.public_url}/api/v1/spaces/{recording.space_id}/recording"
    playable = recording.state in PLAYABLE
    captions = latest_run(session, "captions.transcribe", recording.space_id)
    duration = recording.duration_seconds
    return RecordingOut(
        state=recording.state,
        started_at=recording.started_at,
        ended_at=recording.ended_at,
        duration_seconds=duration,
        start_offset_seconds=recording.start_offset_seconds,
        clips_allowed=recording.clips_allowed,
        downloads_allowed=recording.downloads_allowed,
        playable_seconds=(
            max(0.0, duration - recording.start_offset_seconds) if duration is not None else None
        ),
        available_until=recording.available_until,
        deleted_at=recording.deleted_at,
        replay_count=recording.replay_count,
        playlist_url=f"{base}/replay.m3u8" if playable else None,
        master_url=f"{base}/recording.ts" if playable else None,
        waveform_url=f"{api}/waveform" if playable else None,
        speakers_url=f"{api}/speakers" if playable else None,
        hls_master_url=f"{base}/replay_master.m3u8" if playable else None,
        captions_url=f"{base}/captions.vtt" if playable else None,
        transcript_url=f"{api}/transcript" if playable else None,
        captions=JobRunOut.model_validate(captions) if captions is not None else None,
    )


def _recording(db: DbDep, space_id: str) -> Recording:
    space = spaces.get(db, space_id)
    recording = recordings.recording_for_space(db, space.id)
    if recording is None:
        raise NotFound("this Space was not recorded")
    return recording


@router.get("", responses=errors(404, 410))
def get_recording(
    space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> RecordingOut:
    recording = _recording(db, space_id)
    is_host = user is not None and spaces.get(db, space_id).host_id == user.id
    moderator = user is not None and user.is_moderator
    if recording.state is RecordingState.TAKEN_DOWN and not (is_host or moderator):
        raise Gone("this recording was taken down by the moderators")
    if recording.state in (RecordingState.DELETED, RecordingState.PURGED) and not is_host:
        raise Gone("this recording was deleted")
    return recording_out(services, db, recording)


@router.patch("", responses=errors(403, 404, 409))
def edit_recording(
    space_id: str, body: RecordingSettings, services: ServicesDep, db: DbDep, user: CurrentUser
) -> RecordingOut:
    """The host's settings (host only): where the replay starts (0 ≤ offset < duration;
    every output — playlist, master file, waveform, speakers, captions, downloads —
    follows it), and whether listeners may clip or download it."""
    space = spaces.get(db, space_id)
    recording = _recording(db, space_id)
    recordings.change_settings(
        recording,
        space,
        user,
        offset=body.start_offset_seconds,
        clips_allowed=body.clips_allowed,
        downloads_allowed=body.downloads_allowed,
    )
    db.commit()
    if not services.storage.exists(rendition_key(recording, "m4a")):
        recordings.enqueue_rendition(
            services, space_id, recording.id, "m4a", recording.start_offset_seconds
        )
    return recording_out(services, db, recording)


@router.get("/waveform", responses=errors(*REPLAY_ERRORS))
def get_waveform(
    space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser, whole: bool = False
) -> Waveform:
    """Ten peaks a second from the start offset: what the player draws its seek bar on.
    ``whole=true`` gives the host the whole recording, from 0, for the start-time slider."""
    space, recording = recordings.replayable(db, space_id, user, services.clock.now())
    if whole and (user is None or user.id != space.host_id):
        raise Forbidden("only the host sees the recording before its start time")
    offset = recording.start_offset_seconds
    peaks = replay.waveform(recordings.segments_of(db, recording.id), 0.0 if whole else offset)
    return Waveform(
        peaks_per_second=replay.PEAKS_PER_SECOND, start_offset_seconds=offset, peaks=peaks
    )


@router.get("/chapters", responses=errors(*REPLAY_ERRORS))
def get_chapters(
    space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> ChaptersOut:
    """The chapters: the host's, or made from who spoke when and the silences."""
    _, recording = recordings.replayable(db, space_id, user, services.clock.now())
    return _chapters_out(db, recording)


@router.put("/chapters", responses=errors(403, 404, 409, 410))
def edit_chapters(
    space_id: str, body: ChaptersIn, services: ServicesDep, db: DbDep, user: CurrentUser
) -> ChaptersOut:
    """The host renames, adds or removes chapters: the list given replaces them all."""
    space, recording = recordings.replayable(db, space_id, user, services.clock.now())
    given = [chapters.Chapter(c.start, c.title) for c in body.chapters]
    chapters.replace(db, recording, space, user, given)
    db.commit()
    return _chapters_out(db, recording)


def _chapters_out(db: DbDep, recording: Recording) -> ChaptersOut:
    found, edited = chapters.of_recording(db, recording)
    return ChaptersOut(
        edited=edited, chapters=[ChapterOut(start=c.start, title=c.title) for c in found]
    )


@doors.get("/i/spaces/{space_id}/chapters.json")
def chapters_json(space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser) -> Response:
    """Podcasting 2.0 JSON chapters, readable by podcast apps on any site."""
    space, recording = recordings.replayable(db, space_id, user, services.clock.now())
    found, _ = chapters.of_recording(db, recording)
    return Response(
        json.dumps(chapters.podcast_chapters(found, space.title), ensure_ascii=False),
        media_type="application/json+chapters",
        headers={"Access-Control-Allow-Origin": "*"},
    )


@router.get("/speakers", responses=errors(*REPLAY_ERRORS))
def get_speakers(
    space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> SpeakerTimeline:
    """Who talked when, on the replay's clock."""
    _, recording = recordings.replayable(db, space_id, user, services.clock.now())
    offset = recording.start_offset_seconds
    duration = (recording.duration_seconds or 0.0) - offset
    turns = replay.shifted_turns(recordings.speaker_turns(db, recording.id), offset, duration)
    return SpeakerTimeline(
        start_offset_seconds=offset,
        turns=[
            SpeakerTurnOut(speaker=t.speaker, username=t.username, start=t.start, end=t.end)
            for t in turns
        ],
    )


@router.get("/tracks", responses=errors(*REPLAY_ERRORS))
def get_speaker_tracks(
    space_id: str, services: ServicesDep, db: DbDep, user: OptionalUser
) -> SpeakerTracksOut:
    """The speakers' own tracks (the host's alone): empty until the Space's end has
    been processed, and for recordings made before tracks were kept."""
    _, space, recording = tracks_grant(db, space_id, user, services.clock.now())
    base = f"{services.settings.public_url}/i/spaces/{space.id}/tracks"
    return SpeakerTracksOut(
        tracks=[
            SpeakerTrackOut(
                username=t.username,
                speaker=t.speaker_name,
                seconds=t.seconds,
                size_bytes=t.size_bytes,
                url=f"{base}/{t.username}.ogg",
            )
            for t in speaker_tracks.tracks_of(db, recording.id)
        ]
    )


@router.post("/plays", responses=errors(*REPLAY_ERRORS))
def report_play(
    space_id: str,
    body: PlayProgress,
    request: Request,
    response: Response,
    services: ServicesDep,
    db: DbDep,
    user: OptionalUser,
) -> PlayCounted:
    """The player reports how far it has played; a play counts past 10 s, once per
    listener session per 30 minutes."""
    now = services.clock.now()
    _, recording = recordings.replayable(db, space_id, user, now)
    listener, fresh = listener_of(request)
    if fresh:
        remember_listener(response, listener)
    counted = recordings.count_play(db, recording, listener, body.position_seconds, now)
    db.commit()
    return PlayCounted(counted=counted, replay_count=recording.replay_count)


@router.post("/renditions", responses=errors(*REPLAY_ERRORS))
def request_rendition(
    space_id: str,
    body: RenditionRequest,
    response: Response,
    services: ServicesDep,
    db: DbDep,
    user: OptionalUser,
) -> RenditionOut:
    """Ask for the replay as one M4A or MP3 file (from the current start offset): ready
    at once if it was made before, else a job (202) whose progress this call reports."""
    space, recording = recordings.replayable(db, space_id, user, services.clock.now())
    fmt, offset = body.format, recording.start_offset_seconds
    if fmt != "m4a":  # the M4A is what the player plays; the others are downloads
        recordings.require_download(space, recording, user)
    url = f"{services.settings.public_url}/i/spaces/{space_id}/recording.{fmt}"
    if services.storage.exists(rendition_key(recording, fmt)):
        return RenditionOut(format=fmt, status="ready", url=url)
    response.status_code = status.HTTP_202_ACCEPTED
    run = latest_run(db, "recordings.render", space_id, {"format": fmt, "offset": offset})
    if run is None or run.status in (JobStatus.DONE, JobStatus.FAILED):
        job_id = recordings.enqueue_rendition(services, space_id, recording.id, fmt, offset)
        return RenditionOut(format=fmt, status="queued", url=url, job_id=job_id)
    return RenditionOut(
        format=fmt,
        status=run.status.value,
        url=url,
        job_id=run.id,
        progress=run.progress,
        error=run.error,
    )


@router.post("/restore", responses=errors(403, 404, 409))
def restore_recording(
    space_id: str, services: ServicesDep, db: DbDep, user: CurrentUser
) -> RecordingOut:
    """Undo a delete while the media is held (the host, or a moderator): the recording is
    back for listeners if its window is still open (else expired), with new links."""
    space = spaces.get(db, space_id)
    if space.host_id != user.id and not user.is_moderator:
        raise Forbidden("only the host or a moderator can restore this recording")
    recording = _recording(db, space_id)
    now = services.clock.now()
    lifecycle.restore(recording, now)
    audit.record(db, user, "recording.restored", f"recording:{space.id}", now)
    db.commit()
    return recording_out(services, db, recording)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404, 409))
def delete_recording(space_id: str, services: ServicesDep, db: DbDep, user: CurrentUser) -> None:
    """Delete at once for everyone (the host, or a moderator taking it down): every media
    link already handed out stops working; the media is held for moderation, then purged."""
    space = spaces.get(db, space_id)
    if space.host_id != user.id and not user.is_moderator:
        raise Forbidden("only the host or a moderator can delete this recording")
    now = services.clock.now()
    lifecycle.delete(_recording(db, space_id), now)
    revoke_media(space)
    audit.record(db, user, "recording.deleted", f"recording:{space.id}", now)
    db.commit()
    services.generations.announce(space.id, space.media_generation)
