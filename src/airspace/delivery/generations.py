"""Each Space's media generation, held in memory where grants are checked.

The database keeps the generation (``spaces.media_generation``); revoking a Space's
media bumps it and announces the new value, so every node refuses older grants at once.
In one process the announcement is a dictionary write; across machines it travels over
Redis pub/sub, and each node also reloads the table from the database now and then in
case it missed a message while disconnected.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import redis

from airspace.live.events import RESUBSCRIBE_SECONDS
from airspace.spaces.models import Space

logger = logging.getLogger(__name__)

CHANNEL = "airspace:media-generations"


@runtime_checkable
class MediaGenerations(Protocol):
    def current(self, space_id: str) -> int:
        """The newest generation this node knows of (0 if never revoked); memory only."""
        ...

    def observe(self, space_id: str, generation: int) -> None:
        """Raise the known generation to ``generation`` (never lowers it)."""
        ...

    def announce(self, space_id: str, generation: int) -> None:
        """A revocation was committed: tell this node and every other one."""
        ...

    def load(self, generations: Mapping[str, int]) -> None:
        """Merge generations read from the database."""
        ...

    def close(self) -> None: ...


class LocalMediaGenerations:
    """Generations for the nodes of one process."""

    def __init__(self) -> None:
        self._known: dict[str, int] = {}
        self._lock = threading.Lock()

    def current(self, space_id: str) -> int:
        return self._known.get(space_id, 0)

    def observe(self, space_id: str, generation: int) -> None:
        if generation > self._known.get(space_id, 0):
            with self._lock:
                if generation > self._known.get(space_id, 0):
                    self._known[space_id] = generation

    def announce(self, space_id: str, generation: int) -> None:
        self.observe(space_id, generation)

    def load(self, generations: Mapping[str, int]) -> None:
        for space_id, generation in generations.items():
            self.observe(space_id, generation)

    def close(self) -> None:
        pass


class RedisMediaGenerations(LocalMediaGenerations):
    """Generations shared by every node through a Redis channel."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.client = redis.Redis.from_url(url)
        self._pubsub = self.client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
        self._pubsub.subscribe(**{CHANNEL: self._received})
        self._thread = self._pubsub.run_in_thread(
            sleep_time=1.0, daemon=True, exception_handler=self._lost
        )

    @staticmethod
    def _lost(error: BaseException, _pubsub: Any, _thread: Any) -> None:
        """Redis went away: the thread's next read connects and subscribes again; what
        was announced meanwhile comes with the next reload from the database."""
        logger.warning("lost the media generations channel (%s); retrying", error)
        time.sleep(RESUBSCRIBE_SECONDS)

    def _received(self, message: dict[str, Any]) -> None:
        try:
            event = json.loads(message["data"])
            self.observe(str(event["space_id"]), int(event["generation"]))
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed media generation message: %r", message["data"])

    def announce(self, space_id: str, generation: int) -> None:
        self.observe(space_id, generation)
        self.client.publish(CHANNEL, json.dumps({"space_id": space_id, "generation": generation}))

    def close(self) -> None:
        self._thread.stop()
        self._thread.join(timeout=5)  # it reads at most a second more before it stops
        self._pubsub.close()
        self.client.close()


def revoke_media(space: Space) -> None:
    """Make every grant issued for ``space`` so far worthless; announce the new
    generation once the change is committed."""
    space.media_generation += 1
