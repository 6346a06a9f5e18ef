"""How times read on the pages: a position in a replay, and how long something lasts."""

from __future__ import annotations


def clock(seconds: float) -> str:
    """A position, as players show it: ``0:45``, ``12:05``, ``1:02:09``."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def duration(seconds: float) -> str:
    """How long: ``0:45`` and ``1:52`` under an hour, ``1 h 4 min`` from an hour on."""
    whole = max(0, round(seconds))
    if whole < 3600:
        return clock(whole)
    hours, rest = divmod(whole, 3600)
    minutes = rest // 60
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"
