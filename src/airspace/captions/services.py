"""Captioning a recording: its audio, recognised; words given to speakers; stored and
indexed. Speakers who opted out of captions are silenced before recognition."""

from __future__ import annotations

import io
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
from airspace.recordings.models import Recording, RecordingSegment, SpeakerTurn
from airspace.recordings.services import segments_of, speaker_turns

if TYPE_CHECKING:
    from airspace.wiring import Services


def recording_audio(
    read: Callable[[str], bytes],
    segments: Sequence[RecordingSegment],
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """The recording decoded and resampled for recognition (float32 mono, 16 kHz)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=ASR_SAMPLE_RATE)
    blocks: list[np.ndarray] = []
    for number, segment in enumerate(segments):
        with av.open(io.BytesIO(read(segment.key)), mode="r", format="mpegts") as container:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    blocks.append(out.to_ndarray().reshape(-1))
        if progress is not None:
            progress((number + 1) / len(segments))
    for out in resampler.resample(None):
        blocks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(blocks).astype(np.float32) if blocks else np.zeros(0, np.float32)


def opted_out_speakers(session: Session, recording_id: int) -> set[str]:
    """Names under which speakers who opted out of captions spoke in this recording."""
    rows = session.execute(
        select(SpeakerTurn.speaker_name)
        .join(User, User.id == SpeakerTurn.user_id)
        .where(SpeakerTurn.recording_id == recording_id, User.captions_opt_out.is_(True))
    ).all()
    return {name for (name,) in rows}


def caption_recording(
    services: Services, recording_id: int, progress: Callable[[float], None]
) -> int:
    """Transcribe a recording into caption cues; returns how many were stored."""
    with services.sessions() as session:
        recording = session.get_one(Recording, recording_id)
        segments = segments_of(session, recording.id)
        turns = speaker_turns(session, recording.id)
        silenced = opted_out_speakers(session, recording.id)
    audio = recording_audio(services.storage.get, segments, lambda f: progress(0.1 * f))
    for turn in turns:
        if turn.speaker in silenced:
            audio[int(turn.start * ASR_SAMPLE_RATE) : int(turn.end * ASR_SAMPLE_RATE) + 1] = 0.0
    words = services.recognizer.transcribe(audio, lambda f: progress(0.1 + 0.9 * f))
    cues = [c for c in cues_from_words(words, turns) if c.speaker not in silenced]
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
