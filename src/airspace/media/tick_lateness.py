"""How late a room's 20 ms ticks run: the sign that its media process is overloaded.

Two things are measured over windows of LATENESS_WINDOW_SECONDS:

- how far behind the room still is after running the ticks that were due: the ticks
  themselves cost more than real time;
- how late, on average, the room's clock woke for its ticks: the process's event loop,
  which also receives every speaker's packets, is too busy to come back on time. A
  single pause (the process starting, a burst of work elsewhere) is caught up at once
  and counts for little; only a process that stays busy moves the average.

A room falling behind keeps up again only once a whole window is back well under the
limit: a process just under it has no room for more.
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

LATENESS_WINDOW_SECONDS = 2.0
BEHIND_LIMIT_SECONDS = 0.06
"""Still this far behind after catching up (three frames: what a speaker's queue holds
before frames are dropped) is falling behind."""
WAKE_LIMIT_SECONDS = 0.005
"""Ticks woken this late on average over a window is falling behind. (On this project's
2-core machine, 40 legs that it carries give windows of 0.7 ms on average, 1.9 ms at
worst; past what a machine can carry, the average jumps beyond 10 ms.)"""
RECOVERED_WAKE_SECONDS = 0.0025
"""What a window's average must be back under for a room falling behind to keep up."""
WAKE_DELAY_CAP_SECONDS = 0.06
"""One wake-up counts at most this late: a single long pause is not a busy process."""


class TickLateness:
    def __init__(self, room: str) -> None:
        self.room = room
        self._since = 0.0
        self._behind = 0.0
        self._woke_total = 0.0
        self._wakes = 0
        self._was_falling_behind = False
        self.worst_behind = 0.0
        """The worst of the last complete window and the current one, in seconds."""
        self.mean_wake_delay = 0.0
        """Of the last complete window, in seconds."""

    @property
    def seconds(self) -> float:
        """How late the room runs: what the overload message says (0 when on time)."""
        return max(self.worst_behind, self.mean_wake_delay)

    @property
    def falling_behind(self) -> bool:
        return self._was_falling_behind or self.worst_behind > BEHIND_LIMIT_SECONDS

    def woke(self, delay: float, now: float) -> None:
        """The clock woke ``delay`` seconds after the tick it slept for was due."""
        self._roll(now)
        self._woke_total += min(max(0.0, delay), WAKE_DELAY_CAP_SECONDS)
        self._wakes += 1

    def behind(self, late: float, now: float) -> None:
        """After running the ticks due, the room is ``late`` seconds behind (negative:
        ahead, as it should be)."""
        self._roll(now)
        self._behind = max(self._behind, late)
        self.worst_behind = max(self.worst_behind, self._behind)

    def _roll(self, now: float) -> None:
        if now - self._since <= LATENESS_WINDOW_SECONDS:
            return
        was = self._was_falling_behind
        self.mean_wake_delay = self._woke_total / self._wakes if self._wakes else 0.0
        self.worst_behind = self._behind
        wake_limit = RECOVERED_WAKE_SECONDS if was else WAKE_LIMIT_SECONDS
        falling = self.worst_behind > BEHIND_LIMIT_SECONDS or self.mean_wake_delay > wake_limit
        self._was_falling_behind = falling
        self._since, self._behind, self._woke_total, self._wakes = now, 0.0, 0.0, 0
        if falling and not was:
            logger.warning(
                "room %s is falling behind: ticks %.0f ms behind, woken %.1f ms late on average",
                self.room,
                self.worst_behind * 1000,
                self.mean_wake_delay * 1000,
            )
        elif was and not falling:
            logger.warning("room %s keeps up again", self.room)
