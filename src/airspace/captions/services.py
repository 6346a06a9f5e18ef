"""Captioning a recording: its audio, recognised; words given to speakers; stored and
indexed.

A recording with speaker tracks is captioned track by track: each speaker's words come
from their own voice, so attribution is exact, speech over someone else's is kept, and a
speaker who opted out of captions is simply not transcribed. Without tracks (recordings
made before them), the program is recognised and each word goes to whoever was talking
then, with those who opted out silenced for their turns."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import av
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.captions import search
from airspace.captions.models import TranscriptSegment
from airspace.captions.recognizer import ASR_SAMPLE_RATE
from airspace.captions.transcript import Cue, cues_from_words
from airspace.recordings.models import (
    Recording,
    RecordingSegment,
    RecordingState,
    SpeakerTrack,
    SpeakerTurn,
)
from airspace.recordings.replay import Turn
from airspace.recordings.services import segments_of, speaker_turns
from airspace.recordings.speaker_tracks import tracks_of

if TYPE_CHECKING:
    from airspace.wiring import Services

FINALIZE_WAIT_SECONDS = 120.0


class _ForRecognition:
    """Decoded audio frames in; float32 mono at 16 kHz out, as the recogniser takes it."""

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="flt", layout="mono", rate=ASR_SAMPLE_RATE)
        self._blocks: list[np.ndarray] = []

    def add(self, data: bytes, format: str) -> None:
        with av.open(io.BytesIO(data), mode="r", format=format) as container:
            for frame in container.decode(audio=0):
                self._keep(self._resampler.resample(frame))

    def audio(self) -> np.ndarray:
        self._keep(self._resampler.resample(None))
        blocks = self._blocks
        return np.concatenate(blocks).astype(np.float32) if blocks else np.zeros(0, np.float32)

    def _keep(self, frames: list[av.AudioFrame]) -> None:
        self._blocks.extend(out.to_ndarray().reshape(-1) for out in frames)


def recording_audio(
    read: Callable[[str], bytes],
    segments: Sequence[RecordingSegment],
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """The recording decoded and resampled for recognition (float32 mono, 16 kHz)."""
    audio = _ForRecognition()
    for number, segment in enumerate(segments):
        audio.add(read(segment.key), "mpegts")
        if progress is not None:
            progress((number + 1) / len(segments))
    return audio.audio()


def opted_out_speakers(session: Session, recording_id: int) -> set[str]:
    """Names under which speakers who opted out of captions spoke in this recording."""
    rows = session.execute(
        select(SpeakerTurn.speaker_name)
        .join(User, User.id == SpeakerTurn.user_id)
        .where(SpeakerTurn.recording_id == recording_id, User.captions_opt_out.is_(True))
    ).all()
    return {name for (name,) in rows}


def track_audio(data: bytes) -> np.ndarray:
    """A speaker track (Ogg Opus) decoded and resampled for recognition."""
    audio = _ForRecognition()
    audio.add(data, "ogg")
    return audio.audio()


def wait_until_finalized(services: Services, recording_id: int) -> None:
    """Speaker tracks are joined by the finalize job, queued just before this one: wait
    (a while at most) until it has run, so they are there to transcribe."""
    deadline = time.monotonic() + FINALIZE_WAIT_SECONDS
    while time.monotonic() < deadline:
        with services.sessions() as session:
            recording = session.get(Recording, recording_id)
            if recording is None or recording.state is not RecordingState.PROCESSING:
                return
        time.sleep(0.5)


def _cues_from_tracks(
    services: Services,
    tracks: Sequence[SpeakerTrack],
    opted_out: set[int],
    progress: Callable[[float], None],
) -> list[Cue]:
    cues: list[Cue] = []
    heard = [t for t in tracks if t.user_id not in opted_out]
    for number, track in enumerate(heard):
        audio = track_audio(services.storage.get(track.key))
        words = services.recognizer.transcribe(audio, _share_of(progress, number, len(heard)))
        whole = [Turn(track.speaker_name, track.username, 0.0, float("inf"))]
        cues.extend(cues_from_words(words, whole))
    return sorted(cues, key=lambda cue: (cue.start, cue.speaker))


def _share_of(
    progress: Callable[[float], None], number: int, count: int
) -> Callable[[float], None]:
    """Progress of the ``number``-th of ``count`` equal steps, as a share of the whole."""
    return lambda fraction: progress((number + fraction) / count)


def _cues_from_program(
    services: Services,
    segments: Sequence[RecordingSegment],
    turns: Sequence[Turn],
    silenced: set[str],
    progress: Callable[[float], None],
) -> list[Cue]:
    audio = recording_audio(services.storage.get, segments, lambda f: progress(0.1 * f))
    for turn in turns:
        if turn.speaker in silenced:
            audio[int(turn.start * ASR_SAMPLE_RATE) : int(turn.end * ASR_SAMPLE_RATE) + 1] = 0.0
    words = services.recognizer.transcribe(audio, lambda f: progress(0.1 + 0.9 * f))
    return [c for c in cues_from_words(words, turns) if c.speaker not in silenced]


def opted_out_users(session: Session, user_ids: Sequence[int]) -> set[int]:
    """Those of ``user_ids`` who opted out of captions."""
    if not user_ids:
        return set()
    rows = session.scalars(
        select(User.id).where(User.id.in_(user_ids), User.captions_opt_out.is_(True))
    )
    return set(rows)


def caption_recording(
    services: Services, recording_id: int, progress: Callable[[float], None]
) -> int:
    """Transcribe a recording into caption cues; returns how many were stored."""
    wait_until_finalized(services, recording_id)
    with services.sessions() as session:
        recording = session.get_one(Recording, recording_id)
        segments = segments_of(session, recording.id)
        turns = speaker_turns(session, recording.id)
        tracks = tracks_of(session, recording.id)
        silenced = opted_out_speakers(session, recording.id)
        opted_out = opted_out_users(session, [t.user_id for t in tracks if t.user_id])
        session.expunge_all()
    if tracks:
        cues = _cues_from_tracks(services, tracks, opted_out, progress)
    else:
        cues = _cues_from_program(services, segments, turns, silenced, progress)
    with services.sessions() as session:
        search.replace_segments(
            session,
            recording_id,
            [
                TranscriptSegment(
                    recording_id=recording_id,
                    speaker_name=cue.speaker[:50],
                    start_seconds=round(cue.start, 3),
                    end_seconds=round(cue.end, 3),
                    body=cue.body,
                )
                for cue in cues
            ],
        )
        session.commit()
    return len(cues)


def cues_of(session: Session, recording_id: int) -> list[Cue]:
    rows = session.scalars(
        select(TranscriptSegment)
        .where(TranscriptSegment.recording_id == recording_id)
        .order_by(TranscriptSegment.start_seconds)
    )
    return [Cue(r.speaker_name, r.start_seconds, r.end_seconds, r.body) for r in rows]
