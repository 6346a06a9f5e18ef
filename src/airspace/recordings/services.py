"""Recording operations that touch the database and storage."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.archive import services as archives
from airspace.captions.search import replace_segments
from airspace.delivery.generations import revoke_media
from airspace.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from airspace.jobs.models import JobRun, JobStatus
from airspace.media.constants import SAMPLE_RATE
from airspace.media.live_segmenter import StoredSegment
from airspace.recordings import lifecycle, speaker_tracks
from airspace.recordings.models import (
    Recording,
    RecordingSegment,
    RecordingState,
    ReplayPlay,
    SpeakerTurn,
)
from airspace.recordings.replay import Turn
from airspace.sharing import notifications
from airspace.sharing.models import Clip, NotificationKind
from airspace.spaces import services as spaces
from airspace.spaces.models import Space

if TYPE_CHECKING:
    from airspace.wiring import Services

logger = logging.getLogger(__name__)

PLAY_COUNTS_AFTER_SECONDS = 10.0
PLAY_COUNT_WINDOW = timedelta(minutes=30)


def recording_for_space(session: Session, space_id: str) -> Recording | None:
    return session.scalar(select(Recording).where(Recording.space_id == space_id))


def add_segment(
    services: Services, recording_id: int, segment: StoredSegment, owner_node: str | None = None
) -> bool:
    """Record a segment that is already durable in storage (the live path calls this
    before any playlist names the segment). With ``owner_node``, only while that node
    still holds the Space's room: a node that lost its lease (another took the room
    over) lists nothing more. Returns whether the segment was listed."""
    with services.sessions() as session:
        if owner_node is not None:
            held = session.scalar(
                select(Space.owner_node)
                .join(Recording, Recording.space_id == Space.id)
                .where(Recording.id == recording_id)
            )
            if held != owner_node:
                return False
        session.add(
            RecordingSegment(
                recording_id=recording_id,
                sequence=segment.sequence,
                key=segment.key,
                first_sample=segment.first_sample,
                samples=segment.samples,
                program_date_time=segment.program_date_time,
                peaks=segment.peaks,
                discontinuity=segment.discontinuity,
            )
        )
        session.commit()
        return True


def segments_of(session: Session, recording_id: int) -> list[RecordingSegment]:
    """The recording's segments in order."""
    return list(
        session.scalars(
            select(RecordingSegment)
            .where(RecordingSegment.recording_id == recording_id)
            .order_by(RecordingSegment.sequence)
        )
    )


def finalize(services: Services, recording_id: int) -> str | None:
    """Open the replay window of a recording whose Space has ended. When media was
    recorded, its duration is what the stored segments hold. Returns the Space's id when
    this call published it."""
    with services.sessions() as session:
        recording = session.get(Recording, recording_id)
        if recording is None or recording.state is not RecordingState.PROCESSING:
            return None  # already finalized, or deleted meanwhile: nothing to do
        segments = segments_of(session, recording_id)
        if segments:
            last = segments[-1]
            recording.duration_seconds = (last.first_sample + last.samples) / SAMPLE_RATE
        lifecycle.publish(recording, timedelta(days=services.settings.replay_days))
        space = session.get(Space, recording.space_id)
        if space is not None:
            now = services.clock.now()
            notifications.tell_followers(session, space, NotificationKind.RECORDING, now)
        session.commit()
        return recording.space_id


def advance_all(services: Services) -> dict[str, int]:
    """Apply every transition the clock has made due; purge media of purged recordings.

    Returns counts by new state.
    """
    now = services.clock.now()
    counts = {RecordingState.EXPIRED.value: 0, RecordingState.PURGED.value: 0}
    counts["requeued"] = requeue_stuck(services, now)
    with services.sessions() as session:
        candidates = session.scalars(
            select(Recording).where(
                Recording.state.in_(
                    [
                        RecordingState.AVAILABLE,
                        RecordingState.EXPIRED,
                        RecordingState.DELETED,
                        RecordingState.TAKEN_DOWN,
                    ]
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
            space = None
            if target is RecordingState.PURGED:
                services.storage.delete_prefix(recording.media_prefix)  # clips' files too
                session.execute(delete(Clip).where(Clip.recording_id == recording.id))
                replace_segments(session, recording.id, [])  # its captions and their index
                speaker_tracks.forget(session, recording.id)
                lifecycle.mark_purged(recording, now)
                space = session.get(Space, recording.space_id)
                if space is not None:
                    # Archives that copied it go with it; whatever a server still holds
                    # in memory of it goes with the grants.
                    archives.remove_holding(services, session, space.host_id, space.id)
                    revoke_media(space)
                counts[RecordingState.PURGED.value] += 1
            session.commit()
            if space is not None:
                services.generations.announce(space.id, space.media_generation)
    return counts


STUCK_AFTER = timedelta(minutes=5)
"""A recording still processing this long after its Space ended, with no finalize job
waiting or running, lost its jobs (the queue refused them, say): they are queued again."""


def requeue_stuck(services: Services, now: datetime) -> int:
    """Queue the end-of-Space jobs again for recordings stuck in processing; how many."""
    with services.sessions() as session:
        waiting = select(JobRun.subject).where(
            JobRun.name == "recordings.finalize",
            JobRun.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        )
        stuck = session.execute(
            select(Recording.space_id, Recording.id).where(
                Recording.state == RecordingState.PROCESSING,
                Recording.ended_at < now - STUCK_AFTER,
                Recording.space_id.not_in(waiting.where(JobRun.subject.is_not(None))),
            )
        ).all()
    for space_id, recording_id in stuck:
        logger.warning("recording of %s was stuck in processing; queued again", space_id)
        enqueue_after_end(services, space_id, recording_id)
    return len(stuck)


def replayable(
    session: Session, space_id: str, user: User | None, now: datetime
) -> tuple[Space, Recording]:
    """The Space and its recording if ``user`` may listen to it now; raises otherwise:
    404 not recorded, 410 deleted or past its window (moderators still may), 403 a
    ticketed Space for someone without a ticket, 409 still live."""
    space = spaces.get(session, space_id)
    recording = recording_for_space(session, space.id)
    if recording is None:
        raise NotFound("this Space was not recorded")
    moderator = user is not None and user.is_moderator
    if recording.state is RecordingState.RECORDING:
        raise Conflict("this Space is still live; listen at its live playlist")
    if recording.state is RecordingState.PURGED:
        raise Gone("this recording was deleted")
    if recording.state is RecordingState.DELETED and not moderator:
        raise Gone("this recording was deleted")
    if recording.state is RecordingState.TAKEN_DOWN and not moderator:
        raise Gone("this recording was taken down by the moderators")
    past_window = recording.state is RecordingState.EXPIRED or (
        recording.available_until is not None and now >= recording.available_until
    )
    if past_window and not moderator:
        raise Gone("this recording is past its replay window")
    if space.is_ticketed and not moderator and not spaces.has_ticket(session, space, user):
        raise Forbidden("this Space's replay is for ticket holders")
    return space, recording


def speaker_turns(session: Session, recording_id: int) -> list[Turn]:
    """Who talked when, in seconds of the whole recording, in order."""
    rows = session.execute(
        select(SpeakerTurn, User.username)
        .outerjoin(User, User.id == SpeakerTurn.user_id)
        .where(SpeakerTurn.recording_id == recording_id)
        .order_by(SpeakerTurn.start_seconds)
    ).all()
    return [
        Turn(turn.speaker_name, username, turn.start_seconds, turn.end_seconds)
        for turn, username in rows
    ]


def may_download(space: Space, recording: Recording, user: User | None) -> bool:
    """The host always may; moderators may; listeners when the host allows it."""
    if user is not None and (user.id == space.host_id or user.is_moderator):
        return True
    published = space.host.podcast_feed and not space.is_ticketed  # the feed's enclosures
    return recording.downloads_allowed or published


def require_download(space: Space, recording: Recording, user: User | None) -> None:
    if not may_download(space, recording, user):
        raise Forbidden("the host has not allowed listeners to download this recording")


def change_settings(
    recording: Recording,
    space: Space,
    user: User,
    *,
    offset: float | None = None,
    clips_allowed: bool | None = None,
    downloads_allowed: bool | None = None,
) -> None:
    """The host's settings of a recording; None leaves one as it is. Who may clip or
    download can be said while the Space is still live (listeners asking ahead for the
    file hear at once); the start time once it has ended."""
    if space.host_id != user.id:
        raise Forbidden("only the host can change the recording's settings")
    settable = (RecordingState.RECORDING, RecordingState.PROCESSING, RecordingState.AVAILABLE)
    if recording.state not in settable:
        raise Conflict(f"the recording is {recording.state.value}")
    if offset is not None:
        set_start_offset(recording, space, user, offset)
    if clips_allowed is not None:
        recording.clips_allowed = clips_allowed
    if downloads_allowed is not None:
        recording.downloads_allowed = downloads_allowed


def set_start_offset(recording: Recording, space: Space, user: User, offset: float) -> None:
    """The host moves where the replay starts; nothing is cut, it can move again."""
    if space.host_id != user.id:
        raise Forbidden("only the host can edit the start time")
    if recording.state not in (RecordingState.PROCESSING, RecordingState.AVAILABLE):
        raise Conflict(f"the recording is {recording.state.value}")
    duration = recording.duration_seconds or 0.0
    if not 0 <= offset < duration:
        raise Invalid(f"start_offset_seconds must be at least 0 and below {duration:.3f}")
    recording.start_offset_seconds = offset


def count_play(
    session: Session, recording: Recording, listener: str, position: float, now: datetime
) -> bool:
    """Count a replay once a listener session is past the first seconds; once per
    session per half hour. Returns whether this call counted one."""
    if position < PLAY_COUNTS_AFTER_SECONDS:
        return False
    recent = session.scalar(
        select(ReplayPlay.id).where(
            ReplayPlay.recording_id == recording.id,
            ReplayPlay.listener == listener,
            ReplayPlay.counted_at > now - PLAY_COUNT_WINDOW,
        )
    )
    if recent is not None:
        return False
    session.add(ReplayPlay(recording_id=recording.id, listener=listener, counted_at=now))
    recording.replay_count += 1
    return True


def enqueue_after_end(services: Services, space_id: str, recording_id: int) -> None:
    """The jobs every recording gets when its Space ends: opening the replay, and
    captions (separately, so a failed transcription never holds back the replay)."""
    services.jobs.enqueue("recordings.finalize", subject=space_id, recording_id=recording_id)
    services.jobs.enqueue("captions.transcribe", subject=space_id, recording_id=recording_id)
    enqueue_rendition(services, space_id, recording_id, "m4a", 0.0)


def enqueue_rendition(
    services: Services, space_id: str, recording_id: int, fmt: str, offset: float
) -> str:
    """Queue making the ``fmt`` file of a replay from ``offset``; returns the job id."""
    return services.jobs.enqueue(
        "recordings.render", subject=space_id, recording_id=recording_id, format=fmt, offset=offset
    )
