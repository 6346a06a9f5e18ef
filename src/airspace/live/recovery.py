"""After a crash: Spaces left live by a node that died (its lease expired) are ended, and
each recording is finalized from every segment that reached storage, listed or not."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import av
from sqlalchemy.orm import Session

from airspace.live import leases
from airspace.live.recorder import live_prefix
from airspace.media.adts import split_frames
from airspace.media.constants import AAC_FRAME_SAMPLES, SAMPLE_RATE
from airspace.media.live_segmenter import Resume, peaks_of
from airspace.media.mpegts import TransportStreamError, adts_stream, decode_audio
from airspace.recordings import services as recordings
from airspace.recordings.models import Recording, RecordingSegment
from airspace.recordings.services import enqueue_after_end, segments_of
from airspace.spaces import services as spaces
from airspace.spaces.models import Space
from airspace.storage.interfaces import ObjectNotFound

if TYPE_CHECKING:
    from airspace.wiring import Services

SEGMENT_NAME = re.compile(r"^(\d{6})\.ts$")
logger = logging.getLogger(__name__)


def recover_interrupted(
    services: Services, hosted: Collection[str], *, starting: bool = True
) -> list[str]:
    """End every live Space nobody holds any more (see ``leases.stranded``) that is not
    in ``hosted`` (the rooms this process runs); returns their ids. Each ends where its
    audio does: recorded ones get every stored segment and a finalize job, and end at
    the end of the last one; unrecorded ones end at their owner's last renewal."""
    hold = timedelta(days=services.settings.moderation_hold_days)
    now = services.clock.now()
    ended: list[str] = []
    with services.sessions() as session:
        node = services.settings.node_id
        for space in leases.stranded(session, node, hosted, now, starting=starting):
            recording = recordings.recording_for_space(session, space.id)
            end = last_sign_of_life(space, now)
            if recording is not None:
                added = list_stored_segments(services, session, recording)
                end = end_of_stored_audio(session, recording) or end
                logger.warning(
                    "Space %s was left live by %s; ended it (%d segments found in storage only)",
                    space.id,
                    space.owner_node or "a stopped server",
                    added,
                )
            else:
                services.storage.delete_prefix(live_prefix(space.id))
            spaces.finish(session, space, end, hold)
            session.commit()
            if recording is not None:
                enqueue_after_end(services, space.id, recording.id)
            ended.append(space.id)
    return ended


def last_sign_of_life(space: Space, now: datetime) -> datetime:
    """When the owner of ``space`` last renewed its lease (now, if it never had one)."""
    if space.lease_expires_at is None:
        return now
    return min(now, space.lease_expires_at - leases.LEASE)


def end_of_stored_audio(session: Session, recording: Recording) -> datetime | None:
    """Where the recording's last stored segment ends, on the wall clock."""
    listed = segments_of(session, recording.id)
    if not listed:
        return None
    last = listed[-1]
    return recording.started_at + timedelta(
        seconds=(last.first_sample + last.samples) / SAMPLE_RATE
    )


def list_stored_segments(services: Services, session: Session, recording: Recording) -> int:
    """Add to the recording every stored segment it does not list yet (the ones stored
    in the instant before a crash); returns how many were added."""
    listed = segments_of(session, recording.id)
    known = {segment.key for segment in listed}
    next_sample = listed[-1].first_sample + listed[-1].samples if listed else 0
    next_sequence = listed[-1].sequence + 1 if listed else 0
    # Keys run on from the last listed one (after a takeover they are ahead of sequences).
    next_key = key_index(listed[-1].key) + 1 if listed else 0
    added = 0
    for key in services.storage.list(live_prefix(recording.space_id)):
        if key in known or key_index(key) != next_key:
            continue
        try:
            data = services.storage.get(key)
            frames, _, _ = split_frames(adts_stream(data))
            peaks = peaks_of(decode_audio(data), next_sample)
        except (TransportStreamError, ObjectNotFound, av.FFmpegError) as error:
            logger.warning("skipping unreadable segment %s: %s", key, error)
            break
        samples = len(frames) * AAC_FRAME_SAMPLES
        session.add(
            RecordingSegment(
                recording_id=recording.id,
                sequence=next_sequence,
                key=key,
                first_sample=next_sample,
                samples=samples,
                program_date_time=recording.started_at
                + timedelta(seconds=next_sample / SAMPLE_RATE),
                peaks=peaks,
            )
        )
        next_sample += samples
        next_sequence += 1
        next_key += 1
        added += 1
    return added


def key_index(key: str) -> int:
    """The number in a live segment's storage key (-1 for anything else)."""
    match = SEGMENT_NAME.match(key.rsplit("/", 1)[-1])
    return int(match.group(1)) if match is not None else -1


KEY_SKIP = 5
"""How far past the highest stored key a node taking a room over starts its keys: the
previous owner, if it is still running unaware, stores at most a segment or two more
before it sees the lease is gone."""


def resume_point(
    services: Services, session: Session, space_id: str, recording: Recording | None, now: datetime
) -> Resume:
    """Where a node taking the room of ``space_id`` over carries on: after every segment
    the recording lists (first listing those stored but not listed), with keys past any
    stored one."""
    top = max((key_index(key) for key in services.storage.list(live_prefix(space_id))), default=-1)
    first_key = top + 1 + KEY_SKIP
    if recording is None:  # nothing is kept: only the live edge needs new keys
        return Resume(sequence=first_key, key_index=first_key, first_sample=0, at=now)
    list_stored_segments(services, session, recording)
    listed = segments_of(session, recording.id)
    if not listed:
        return Resume(sequence=0, key_index=first_key, first_sample=0, at=now)
    last = listed[-1]
    return Resume(last.sequence + 1, first_key, last.first_sample + last.samples, now)
