"""How far a download is: what the progress bar and the web page's job status show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Progress:
    """How far a download is; handed to the progress callback after every segment."""

    segments_done: int = 0
    segments_total: int = 0
    bytes_done: int = 0
    seconds_done: float = 0.0
    """Seconds of audio downloaded."""
    seconds_total: float = 0.0
    seconds_converted: float = 0.0
    """Seconds of audio written to the output file."""
    stage: str = "resolving"
    """resolving, waiting (for a replay not published yet), recording (--live),
    downloading, finishing (the last of the conversion), done."""
    waiting_for: str = ""
    """While waiting: why, and until when it tries again."""

    @property
    def fraction(self) -> float:
        """How far the whole job is, 0 to 1: fetching and converting count half each."""
        if self.stage == "done":
            return 1.0
        if not self.seconds_total:
            return 0.0
        fetched = self.seconds_done / self.seconds_total
        converted = self.seconds_converted / self.seconds_total
        return min(1.0, (fetched + converted) / 2)


ProgressCallback = Callable[[Progress], None]
