"""Voice activity per speaker: who is talking when, from the level of their frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# A frame louder than this (RMS, full scale 1.0) is speech; about -40 dBFS.
SPEECH_LEVEL = 0.01
# Speech starts after this many loud frames in a row and stops after this many quiet
# ones, so single clicks do not light the ring and pauses between words do not end it.
START_FRAMES = 3
STOP_FRAMES = 25


@dataclass
class ActivityChange:
    speaker: str
    speaking: bool
    at: float
    """Seconds since the start of the Space."""


@dataclass
class _SpeakerState:
    speaking: bool = False
    loud: int = 0
    quiet: int = 0
    since: float = 0.0


@dataclass
class ActivityDetector:
    frame_seconds: float = 0.02
    _speakers: dict[str, _SpeakerState] = field(default_factory=dict)

    def feed(self, speaker: str, frame: np.ndarray, at: float) -> ActivityChange | None:
        """Account one frame of ``speaker`` heard at ``at`` seconds; returns a change, if any."""
        state = self._speakers.setdefault(speaker, _SpeakerState())
        level = float(np.sqrt(np.mean(np.square(frame, dtype=np.float64)))) if frame.size else 0.0
        if level >= SPEECH_LEVEL:
            state.loud += 1
            state.quiet = 0
            if not state.speaking and state.loud >= START_FRAMES:
                state.speaking = True
                start = at - (START_FRAMES - 1) * self.frame_seconds
                return ActivityChange(speaker, True, max(0.0, start))
        else:
            state.quiet += 1
            state.loud = 0
            if state.speaking and state.quiet >= STOP_FRAMES:
                state.speaking = False
                return ActivityChange(speaker, False, at - (STOP_FRAMES - 1) * self.frame_seconds)
        return None

    def leave(self, speaker: str, at: float) -> ActivityChange | None:
        """The speaker left: end their speech if they were talking."""
        state = self._speakers.pop(speaker, None)
        if state is not None and state.speaking:
            return ActivityChange(speaker, False, at)
        return None
