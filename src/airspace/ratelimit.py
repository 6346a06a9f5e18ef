"""Rate limits shared by every node: log-in attempts, registrations, downloads, reports.

One Protocol, two implementations picked in ``wiring``: counters in this process (one
server), or in Redis (every node counts against the same limits).
"""

from __future__ import annotations

import threading
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

import redis

from airspace.errors import TooManyRequests


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events per ``window`` for each key of one ``name``."""

    name: str
    count: int
    window: timedelta


@runtime_checkable
class RateLimits(Protocol):
    def wait(self, limit: Limit, key: str, now: datetime) -> int:
        """Seconds until ``key`` may have another event under ``limit``; 0 if it may now."""
        ...

    def record(self, limit: Limit, key: str, now: datetime) -> None:
        """Count one event for ``key``."""
        ...

    def clear(self, limit: Limit, key: str) -> None:
        """Forget ``key``'s events (a successful log-in clears its failures)."""
        ...


class LocalRateLimits:
    """Sliding windows in this process's memory."""

    def __init__(self) -> None:
        self._events: dict[tuple[str, str], deque[datetime]] = defaultdict(deque)
        self._lock = threading.Lock()

    def wait(self, limit: Limit, key: str, now: datetime) -> int:
        with self._lock:
            events = self._events[(limit.name, key)]
            while events and events[0] <= now - limit.window:
                events.popleft()
            if len(events) < limit.count:
                return 0
            return max(1, int((events[-limit.count] + limit.window - now).total_seconds()) + 1)

    def record(self, limit: Limit, key: str, now: datetime) -> None:
        with self._lock:
            self._events[(limit.name, key)].append(now)

    def clear(self, limit: Limit, key: str) -> None:
        with self._lock:
            self._events.pop((limit.name, key), None)


class RedisRateLimits:
    """Sliding windows in Redis sorted sets (scored by time), shared by every node."""

    PREFIX = "airspace:limit:"

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)

    def _key(self, limit: Limit, key: str) -> str:
        return f"{self.PREFIX}{limit.name}:{key}"

    def wait(self, limit: Limit, key: str, now: datetime) -> int:
        name, at = self._key(limit, key), now.timestamp()
        self.client.zremrangebyscore(name, "-inf", at - limit.window.total_seconds())
        if int(self.client.zcard(name)) < limit.count:
            return 0
        oldest = self.client.zrange(name, -limit.count, -limit.count, withscores=True)
        first = float(oldest[0][1]) if oldest else at
        return max(1, int(first + limit.window.total_seconds() - at) + 1)

    def record(self, limit: Limit, key: str, now: datetime) -> None:
        name = self._key(limit, key)
        with self.client.pipeline() as pipe:
            pipe.zadd(name, {uuid.uuid4().hex: now.timestamp()})
            pipe.expire(name, int(limit.window.total_seconds()) + 1)
            pipe.execute()

    def clear(self, limit: Limit, key: str) -> None:
        self.client.delete(self._key(limit, key))


def take(limits: RateLimits, limit: Limit, key: str, now: datetime, what: str) -> None:
    """Count an event for ``key``, or refuse it with 429 and when to try again."""
    wait = limits.wait(limit, key, now)
    if wait:
        raise TooManyRequests(f"too many {what}; try again in {wait} s", retry_after=wait)
    limits.record(limit, key, now)
