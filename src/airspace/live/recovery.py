"""After a crash: Spaces left live by a process that died are ended, and each recording
is finalized from every segment that reached storage, listed or not."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import TYPE_CHECKING

import av
from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.live.recorder import live_prefix
from airspace.media.adts import split_frames
from airspace.media.constants import AAC_FRAME_SAMPLES, SAMPLE_RATE
from airspace.media.live_segmenter import peaks_of
from airspace.media.mpegts import TransportStreamError, adts_stream, decode_audio
from airspace.recordings.models import Recording, RecordingSegment
from airspace.recordings.services import enqueue_after_end, segments_of
from airspace.spaces import services as spaces
from airspace.spaces.models import Space, SpaceState
from airspace.storage.interfaces import ObjectNotFound

if TYPE_CHECKING:
    from airspace.wiring import Services

SEGMENT_NAME = re.compile(r"^(\d{6})\.ts$")
logger = logging.getLogger(__name__)


def recover_interrupted(services: Services, hosted: set[str]) -> list[str]:
    """End every live Space that is not in ``hosted`` (the rooms this process runs);
    returns their ids. Recorded ones get their stored segments and a finalize job."""
    hold = timedelta(days=services.settings.moderation_hold_days)
    ended: list[str] = []
    with services.sessions() as session:
        stranded = session.scalars(select(Space).where(Space.state == SpaceState.LIVE)).all()
        for space in stranded:
            if space.id in hosted:
                continue
            recording = spaces.finish(session, space, services.clock.now(), hold)
            if recording is not None:
                added = list_stored_segments(services, session, recording)
                logger.warning(
                    "Space %s was live when the server stopped; ended it (%d segments "
                    "found in storage only)",
                    space.id,
                    added,
                )
            else:
                services.storage.delete_prefix(live_prefix(space.id))
            session.commit()
            if recording is not None:
                enqueue_after_end(services, space.id, recording.id)
            ended.append(space.id)
    return ended


def list_stored_segments(services: Services, session: Session, recording: Recording) -> int:
    """Add to the recording every stored segment it does not list yet (the ones stored
    in the instant before a crash); returns how many were added."""
    listed = segments_of(session, recording.id)
    known = {segment.key for segment in listed}
    next_sample = listed[-1].first_sample + listed[-1].samples if listed else 0
    next_sequence = listed[-1].sequence + 1 if listed else 0
    added = 0
    for key in services.storage.list(live_prefix(recording.space_id)):
        match = SEGMENT_NAME.match(key.rsplit("/", 1)[-1])
        if key in known or match is None or int(match.group(1)) != next_sequence:
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
        added += 1
    return added
