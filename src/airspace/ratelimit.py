"""Per-client request limits: downloads and reports from the public pages."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from datetime import datetime, timedelta


class SlidingWindowLimiter:
    """At most ``limit`` events per ``window`` for each key, in this process."""

    def __init__(self, limit: int, window: timedelta) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    def allow(self, key: str, now: datetime) -> bool:
        """Record an event for ``key`` if it is within the limit; False when it is not."""
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return False
            events.append(now)
            return True

    def retry_after(self, key: str, now: datetime) -> int:
        """Seconds until ``key`` may try again."""
        with self._lock:
            events = self._events.get(key)
            if not events:
                return 0
            return max(1, int((events[0] + self.window - now).total_seconds()) + 1)
