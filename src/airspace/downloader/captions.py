"""Captions beside a downloaded Space: the instance's own, with speakers' names, when the
Space is on an Airspace instance that made them; otherwise the same offline recogniser
the server uses, run over the file on this machine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from airspace.captions.formats import cues_from_podcast_json, render_captions
from airspace.captions.recognizer import ASR_SAMPLE_RATE, SpeechRecognizer
from airspace.captions.transcript import Cue, cues_from_words
from airspace.downloader.net import Http
from airspace.downloader.pipeline import DownloadResult

MAX_TRANSCRIPT_BYTES = 32 << 20


def captions_path(audio: Path, format: str) -> Path:
    """``Host - Title (date).mp3`` → ``Host - Title (date).vtt``."""
    return audio.with_suffix(f".{format}")


def audio_for_recognition(path: Path) -> np.ndarray:
    """The file's audio as the recogniser takes it: float32 mono at 16 kHz."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=ASR_SAMPLE_RATE)
    blocks: list[np.ndarray] = []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            blocks += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
    blocks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
    return np.concatenate(blocks).astype(np.float32) if blocks else np.zeros(0, np.float32)


def recognized_cues(
    path: Path, recognizer: SpeechRecognizer, progress: Callable[[float], None] | None = None
) -> list[Cue]:
    """Captions of the file's speech (no speakers' names: the file does not say who)."""
    words = recognizer.transcribe(audio_for_recognition(path), progress)
    return cues_from_words(words, [])


async def instance_cues(result: DownloadResult) -> list[Cue] | None:
    """The captions the Space's instance made, on the file's clock; None when there are
    none (not an Airspace source, captions not made, or the instance did not answer)."""
    if result.transcript_url is None:
        return None
    async with Http() as http:
        answer = await http.request(
            "GET", result.transcript_url, headers=result.headers, max_bytes=MAX_TRANSCRIPT_BYTES
        )
    if answer.status_code != 200:
        return None
    try:
        cues = cues_from_podcast_json(answer.json())
    except (ValueError, AttributeError):
        return None
    return cues or None


def write_captions(audio: Path, cues: list[Cue], format: str) -> Path:
    path = captions_path(audio, format)
    path.write_text(render_captions(cues, format), encoding="utf-8")
    return path
