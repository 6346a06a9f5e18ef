"""Writing an account's data archive: a zip whose recordings are copied segment by
segment from storage into a file on disk (never whole in memory), then stored.

Layout (as X's archive names it where X has the same thing):

    data/account.json                   the account and its settings
    data/spaces.json                    every Space the account hosted
    data/spaces_media/<space_id>_0.ts   each held recording, as one MPEG-TS file
    data/transcripts/<space_id>.vtt     captions with speakers (and .json, Podcasting 2.0)
    data/clips/<clip_id>.m4a            the account's clips (and data/clips.json)
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.accounts import services as accounts
from airspace.accounts.models import User
from airspace.captions.services import cues_of
from airspace.captions.transcript import podcast_transcript, webvtt
from airspace.recordings.models import Recording, RecordingSegment, RecordingState
from airspace.recordings.services import segments_of
from airspace.sharing.clips import clip_key
from airspace.sharing.follows import followed_ids, follower_count
from airspace.sharing.models import Clip, ClipState
from airspace.spaces.models import Space
from airspace.storage.interfaces import Storage

HELD = (
    RecordingState.PROCESSING,
    RecordingState.AVAILABLE,
    RecordingState.EXPIRED,
    RecordingState.DELETED,
)
"""Recordings whose media the archive copies: all the host's own still kept (a recording
the moderators took down stays with them)."""

README = """This is your data from Airspace, as of {now:%Y-%m-%d %H:%M} UTC.

data/account.json                   your account and settings
data/spaces.json                    every Space you hosted
data/spaces_media/<space_id>_0.ts   the recording of each Space you hosted that is still kept
                                    (MPEG-TS with AAC audio: VLC, ffmpeg and most players open it)
data/transcripts/<space_id>.vtt     its captions with speaker names, and .json (Podcasting 2.0)
data/clips/<clip_id>.m4a            the clips you made, described in data/clips.json
"""


@dataclass
class Contents:
    """What one archive will hold, read from the database before any byte is copied."""

    account: dict[str, Any]
    spaces: list[dict[str, Any]]
    media: dict[str, list[RecordingSegment]] = field(default_factory=dict)
    transcripts: dict[str, tuple[str, str]] = field(default_factory=dict)
    clips: list[dict[str, Any]] = field(default_factory=list)
    clip_keys: dict[str, str] = field(default_factory=dict)


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def gather(session: Session, user: User) -> Contents:
    followed = [session.get(User, i) for i in followed_ids(session, user.id)]
    account = {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "created_at": _when(user.created_at),
        "captions_opt_out": user.captions_opt_out,
        "followers": follower_count(session, user.id),
        "following": sorted(u.username for u in followed if u is not None),
        "blocked": [u.username for u in accounts.blocked_users(session, user)],
    }
    contents = Contents(account, [])
    hosted = session.scalars(
        select(Space).where(Space.host_id == user.id).order_by(Space.created_at)
    )
    for space in hosted:
        recording = session.scalar(select(Recording).where(Recording.space_id == space.id))
        entry: dict[str, Any] = {
            "id": space.id,
            "title": space.title,
            "description": space.description,
            "topics": list(space.topics),
            "state": space.state.value,
            "recorded": space.record,
            "scheduled_start": _when(space.scheduled_start),
            "started_at": _when(space.started_at),
            "ended_at": _when(space.ended_at),
            "participant_count": space.participant_count,
            "peak_listeners": space.peak_listeners,
            "recording": None,
        }
        if recording is not None:
            media = None
            segments = segments_of(session, recording.id) if recording.state in HELD else []
            if segments:
                media = f"spaces_media/{space.id}_0.ts"
                contents.media[space.id] = segments
                cues = cues_of(session, recording.id)
                if cues:
                    contents.transcripts[space.id] = (
                        webvtt(cues),
                        json.dumps(podcast_transcript(cues), ensure_ascii=False),
                    )
            entry["recording"] = {
                "state": recording.state.value,
                "duration_seconds": recording.duration_seconds,
                "start_offset_seconds": recording.start_offset_seconds,
                "replay_count": recording.replay_count,
                "available_until": _when(recording.available_until),
                "media": media,
            }
        contents.spaces.append(entry)
    made = session.scalars(
        select(Clip)
        .join(Recording, Recording.id == Clip.recording_id)
        .where(
            Clip.creator_id == user.id,
            Clip.state == ClipState.READY,
            Recording.state != RecordingState.PURGED,
        )
    )
    for clip in made:
        contents.clip_keys[clip.id] = clip_key(clip, "clip.m4a")
        contents.clips.append(
            {
                "id": clip.id,
                "title": clip.title,
                "space_id": clip.space_id,
                "start_seconds": clip.start_seconds,
                "duration_seconds": clip.duration_seconds,
                "created_at": _when(clip.created_at),
                "file": f"clips/{clip.id}.m4a",
            }
        )
    return contents


def write(
    contents: Contents,
    storage: Storage,
    path: Path,
    now: datetime,
    progress: Callable[[float], None],
) -> int:
    """Write the zip to ``path``; returns its size in bytes."""
    total = sum(len(s) for s in contents.media.values()) + len(contents.clip_keys) + 1
    done = 0
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr("README.txt", README.format(now=now))
        zf.writestr("data/account.json", json.dumps(contents.account, indent=2, ensure_ascii=False))
        zf.writestr("data/spaces.json", json.dumps(contents.spaces, indent=2, ensure_ascii=False))
        for space_id, (vtt, transcript) in contents.transcripts.items():
            zf.writestr(f"data/transcripts/{space_id}.vtt", vtt)
            zf.writestr(f"data/transcripts/{space_id}.json", transcript)
        zf.writestr("data/clips.json", json.dumps(contents.clips, indent=2, ensure_ascii=False))
        for space_id, segments in contents.media.items():
            name = f"data/spaces_media/{space_id}_0.ts"
            info = zipfile.ZipInfo(name, date_time=now.timetuple()[:6])
            info.compress_type = zipfile.ZIP_STORED  # AAC does not compress further
            with zf.open(info, "w", force_zip64=True) as out:
                for segment in segments:
                    out.write(storage.get(segment.key))
                    done += 1
                    if done % 50 == 0:
                        progress(done / total)
        for clip_id, key in contents.clip_keys.items():
            info = zipfile.ZipInfo(f"data/clips/{clip_id}.m4a", date_time=now.timetuple()[:6])
            zf.writestr(info, storage.get(key), compress_type=zipfile.ZIP_STORED)
            done += 1
    progress(1.0)
    return path.stat().st_size
