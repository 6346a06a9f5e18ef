"""The program of a live room into storage: encoded and stored on a worker thread, so
the event loop that carries the speakers never encodes or waits for storage."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from airspace.http_errors import OUTAGE_KINDS, outage_of
from airspace.media.constants import SAMPLE_RATE
from airspace.media.live_segmenter import MAX_UNSTORED, LiveSegmenter, Resume, StoredSegment
from airspace.recordings.services import add_segment

if TYPE_CHECKING:
    from airspace.wiring import Services

logger = logging.getLogger(__name__)
MAX_LEAD_IN_SECONDS = 3.0
"""The most silence put before a room's first program frame (see ``room_opened``)."""
BATCH_FRAMES = 10
"""Program frames (20 ms each) handed to the worker thread at a time."""


def live_prefix(space_id: str) -> str:
    """Where a Space's live segments are stored (inside the recording's media prefix)."""
    return f"spaces/{space_id}/live/"


class ProgramRecorder:
    """Takes program frames on the event loop; stores 2 s segments from a worker thread.

    With a ``recording_id`` every stored segment is also listed on the recording (after
    it is durable in storage), while this node holds the room. With ``resume`` it carries
    on a recording another node started (see ``LiveSegmenter``). ``on_failure`` is
    called on the event loop if encoding or storing fails; nothing more is recorded
    after that.
    """

    def __init__(
        self,
        services: Services,
        space_id: str,
        started_at: datetime,
        recording_id: int | None,
        on_failure: Callable[[BaseException], None],
        resume: Resume | None = None,
    ) -> None:
        self.services = services
        self.recording_id = recording_id
        self.on_failure = on_failure
        self.segmenter = LiveSegmenter(
            services.storage,
            live_prefix(space_id),
            started_at,
            on_segment=self._stored,
            resume=resume,
        )
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"record-{space_id}")
        self._loop = asyncio.get_running_loop()
        self._batch: list[np.ndarray] = []
        self.failed: BaseException | None = None
        self._abandoned = False
        self._started_at = started_at
        self._waiting_for_first = True
        self._submitted = False
        self._received = resume.first_sample if resume is not None else 0
        """Samples of program taken, on the recording's timeline (lead-in included)."""
        self._until: int | None = None
        self._opened_at: float | None = None
        """When the engine opened the room (monotonic seconds): its program runs from then."""
        self._lead_in = self._received
        """Samples before the room's program: a resumed recording's, then the lead-in."""
        self._unlisted: deque[StoredSegment] = deque()
        """Segments durable in storage that the database did not take yet, oldest first."""

    def program(self, frame: np.ndarray) -> None:
        if self.failed is not None or self._abandoned:
            return
        if self._until is not None:
            room = self._until - self._received
            if room <= 0:
                return
            frame = frame[:room]
        self._received += len(frame)
        if self._waiting_for_first:
            self._waiting_for_first = False
            if self.segmenter.resume is not None:  # the time until now is lost
                self.segmenter.resumed_from(self.services.clock.now())
        self._batch.append(frame)
        if len(self._batch) >= BATCH_FRAMES:
            self._submit()

    def stop_now(self) -> None:
        """The Space ended now: take no program past this moment (what is still in
        flight while the room closes), so the recording lasts what the Space lasted."""
        if self._opened_at is not None:
            ran = time.monotonic() - self._opened_at
            self._until = max(self._received, self._lead_in + round(ran * SAMPLE_RATE))

    def room_opened(self) -> None:
        """The media engine opened the room (its program clock runs from now): the time
        since the Space went live (a media worker starting, say) is silence at the start
        of the recording, so that its timeline runs from the Space's start as the wall
        clock does. Only before anything was handed to the encoder."""
        self._opened_at = time.monotonic()
        if self.segmenter.resume is not None or self._submitted:
            return
        late = (self.services.clock.now() - self._started_at).total_seconds()
        seconds = min(max(late, 0.0), MAX_LEAD_IN_SECONDS)
        if seconds > 0:
            lead_in = np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32)
            self._batch.insert(0, lead_in)
            self._received += len(lead_in)
            self._lead_in += len(lead_in)

    def _submit(self) -> None:
        if not self._batch:
            return
        self._submitted = True
        pcm = np.concatenate(self._batch)
        self._batch = []
        self._executor.submit(self.segmenter.push, pcm).add_done_callback(self._check)

    def _check(self, future: Future[Any]) -> None:
        if future.cancelled():  # the executor was shut down with the room
            return
        error = future.exception()
        if error is not None and self.failed is None:
            self.failed = error
            self._loop.call_soon_threadsafe(self.on_failure, error)

    def _stored(self, segment: StoredSegment) -> None:
        """List a segment now durable in storage on the recording; while the database
        is away, keep it (and those after it) to list in order once it is back. The
        Space goes on meanwhile; beyond ``MAX_UNSTORED`` waiting, the room fails."""
        if self.recording_id is None:
            return
        self._unlisted.append(segment)
        while self._unlisted:
            try:
                add_segment(
                    self.services,
                    self.recording_id,
                    self._unlisted[0],
                    self.services.settings.node_id,
                )
            except OUTAGE_KINDS as error:
                if outage_of(error) is None or len(self._unlisted) > MAX_UNSTORED:
                    raise
                logger.warning("cannot list %s yet (%s)", self._unlisted[0].key, error)
                return
            self._unlisted.popleft()

    def abandon(self) -> None:
        """Stop at once, storing nothing more and listing nothing more on the recording
        (which another node has ended)."""
        self._abandoned = True
        self.recording_id = None
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Store what is left as a last, shorter segment; waits for every segment."""
        if self.failed is None:
            self._submit()
            future = self._executor.submit(self.segmenter.close)
            future.add_done_callback(self._check)
            with contextlib.suppress(Exception):  # reported through on_failure
                await asyncio.wrap_future(future)
        self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def duration(self) -> float:
        """Where the recording's timeline stands (taken-over rooms start past zero)."""
        return self.segmenter.duration

    @property
    def room_start(self) -> int:
        """Where the room's program starts on the recording's timeline, in samples:
        after a resumed recording's earlier part, or after the lead-in."""
        return self._lead_in

    def store(self, key: str, data: bytes) -> None:
        """Store ``data`` beside the segments, from the same worker thread (the event
        loop never waits for storage); a failure fails the recording as theirs do."""
        if self.failed is None and not self._abandoned:
            self._executor.submit(self.services.storage.put, key, data).add_done_callback(
                self._check
            )

    @property
    def live_playlist(self) -> bytes:
        """The live playlist of the last few segments (made once per new segment)."""
        return self.segmenter.playlist

    def hot_segment(self, name: str) -> bytes | None:
        """A segment at the live edge, from memory, or None once it has left the window."""
        return self.segmenter.hot.get(name)
