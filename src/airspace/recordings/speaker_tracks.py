"""Speaker tracks of a recording: each speaker's own voice as an Ogg Opus file.

While the Space is live the media engine hands over each speaker's track in parts
(``airspace.media.speaker_tracks``), stored under the recording's media prefix as
``tracks/parts/<user id>/<first sample>``, the first sample on the recording's timeline.
When the Space ends, ``assemble`` joins each speaker's parts into one file that starts
at the recording's start (silence before they first spoke, and wherever a node taking
the room over lost time), so that a podcast editor lines the tracks up by dropping them
in at 0. They live under the same prefix as the program: purged with it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.errors import NotFound
from airspace.media.constants import SAMPLE_RATE
from airspace.media.mixer import FRAME_SAMPLES
from airspace.media.ogg_opus import PRE_SKIP, ogg_opus
from airspace.media.speaker_tracks import packets_of, silent_packet
from airspace.recordings.lifecycle import media_prefix_for
from airspace.recordings.models import Recording, SpeakerTrack, SpeakerTurn
from airspace.spaces.models import Space

if TYPE_CHECKING:
    from airspace.wiring import Services

logger = logging.getLogger(__name__)
TRACK_CONTENT_TYPE = "audio/ogg"


def tracks_prefix(space_id: str) -> str:
    return f"{media_prefix_for(space_id)}tracks/"


def track_parts_prefix(space_id: str) -> str:
    """Where the media engine stores each speaker's track parts while the Space is live
    (``<user id>/<first sample, 12 digits>``), for the end to join."""
    return f"{tracks_prefix(space_id)}parts/"


def track_key(space_id: str, username: str) -> str:
    return f"{tracks_prefix(space_id)}{username}.ogg"


def joined_packets(parts: list[tuple[int, bytes]], silence: bytes) -> list[bytes]:
    """One packet per 20 ms from the recording's start: each part's packets at its first
    sample, silence where no part covers the time; where parts overlap (a room moved
    to another node while the first still held it), the earlier one's packets stay."""
    packets: list[bytes] = []
    for first_sample, data in sorted(parts):
        frame = round(first_sample / FRAME_SAMPLES)
        part = packets_of(data)
        if frame > len(packets):
            packets.extend([silence] * (frame - len(packets)))
        packets.extend(part[len(packets) - frame :])
    return packets


def _parts_by_user(services: Services, space_id: str) -> dict[int, list[str]]:
    by_user: dict[int, list[str]] = defaultdict(list)
    prefix = track_parts_prefix(space_id)
    for key in services.storage.list(prefix):
        user, _, name = key.removeprefix(prefix).partition("/")
        if user.isdigit() and name.isdigit():
            by_user[int(user)].append(key)
    return by_user


def _speaker_name(session: Session, recording_id: int, user: User) -> str:
    """The name they spoke under (the latest turn's), else their display name now."""
    spoken = session.scalars(
        select(SpeakerTurn.speaker_name)
        .where(SpeakerTurn.recording_id == recording_id, SpeakerTurn.user_id == user.id)
        .order_by(SpeakerTurn.start_seconds.desc())
        .limit(1)
    ).first()
    return spoken or user.display_name or user.username


def assemble(services: Services, recording_id: int) -> list[SpeakerTrack]:
    """Join the stored parts into one Ogg Opus file per speaker and list them on the
    recording (replacing any listed before: safe to run again after a crash); then
    remove the parts. Returns the tracks."""
    with services.sessions() as session:
        recording = session.get_one(Recording, recording_id)
        space_id = recording.space_id
        space = session.get(Space, space_id)
        title = space.title if space is not None else ""
    by_user = _parts_by_user(services, space_id)
    if not by_user:
        return []
    silence = silent_packet()
    tracks: list[SpeakerTrack] = []
    with services.sessions() as session:
        for user_id, keys in sorted(by_user.items()):
            user = session.get(User, user_id)
            if user is None:  # the account is gone: so is its voice
                continue
            parts = [(int(key.rsplit("/", 1)[1]), services.storage.get(key)) for key in keys]
            packets = joined_packets(parts, silence)
            name = _speaker_name(session, recording_id, user)
            data = b"".join(ogg_opus(packets, FRAME_SAMPLES, {"title": title, "artist": name}))
            key = track_key(space_id, user.username)
            services.storage.put(key, data, TRACK_CONTENT_TYPE)
            tracks.append(
                SpeakerTrack(
                    recording_id=recording_id,
                    user_id=user.id,
                    username=user.username,
                    speaker_name=name[:50],
                    key=key,
                    size_bytes=len(data),
                    seconds=round((len(packets) * FRAME_SAMPLES - PRE_SKIP) / SAMPLE_RATE, 3),
                )
            )
        session.execute(delete(SpeakerTrack).where(SpeakerTrack.recording_id == recording_id))
        session.add_all(tracks)
        session.commit()
        for track in tracks:
            session.refresh(track)
        session.expunge_all()
    services.storage.delete_prefix(track_parts_prefix(space_id))
    return tracks


def tracks_of(session: Session, recording_id: int) -> list[SpeakerTrack]:
    return list(
        session.scalars(
            select(SpeakerTrack)
            .where(SpeakerTrack.recording_id == recording_id)
            .order_by(SpeakerTrack.id)
        )
    )


def track_of(session: Session, recording_id: int, username: str) -> SpeakerTrack:
    track = session.scalars(
        select(SpeakerTrack).where(
            SpeakerTrack.recording_id == recording_id,
            func.lower(SpeakerTrack.username) == username.lower(),
        )
    ).first()
    if track is None:
        raise NotFound(f"{username} has no track in this recording")
    return track


def forget(session: Session, recording_id: int) -> None:
    """The recording's media was purged: its tracks are no longer listed."""
    session.execute(delete(SpeakerTrack).where(SpeakerTrack.recording_id == recording_id))
