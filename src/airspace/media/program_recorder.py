"""A room's program into stored HLS segments, where the room is mixed: the media engine
(in the server's process or a media worker's) encodes AAC, cuts 2-second segments and
stores them, and the speaker tracks beside them, on a thread of its own, so the loop
that carries the speakers never encodes or waits for storage. What it stored goes back
to the room as ``SegmentStored`` notices (the segment, its bytes for listeners at the
live edge, the new live playlist)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from airspace.clock import Clock
from airspace.media.constants import SAMPLE_RATE
from airspace.media.live_segmenter import LiveSegmenter, Resume, StoredSegment
from airspace.media.mixer import FRAME_SAMPLES
from airspace.media.speaker_tracks import TrackPart, part_bytes
from airspace.storage.interfaces import Storage

MAX_LEAD_IN_SECONDS = 3.0
"""The most silence put before a room's first program frame (see ``ProgramRecorder``)."""
BATCH_FRAMES = 10
"""Program frames (20 ms each) handed to the encoding thread at a time."""


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    """Where and from when a room's program is stored (sent to a media worker as is)."""

    prefix: str
    """Storage prefix of the segments (``spaces/<id>/live/``)."""
    started_at: datetime
    """When the Space went live: the recording's timeline runs from then."""
    resume: Resume | None = None
    """Where a recording started by another node goes on (after a takeover)."""
    tracks_prefix: str | None = None
    """Where each speaker's track parts go (``<prefix><user>/<first sample>``); None
    records no tracks."""


@dataclass(frozen=True, slots=True)
class SegmentStored:
    """A segment is durable in storage: the room may list it and serve it."""

    segment: StoredSegment
    data: bytes
    """The segment's bytes, which listeners at the live edge get from memory."""
    playlist: bytes
    """The live playlist that names it."""
    duration: float
    """Seconds of program stored so far (where the recording's timeline stands)."""


class ProgramRecorder:
    """Takes program frames on the event loop; stores segments from a worker thread.

    The room's program starts when the recorder is made. The time since the Space went
    live (a media worker starting, say) becomes silence at the start of the recording,
    up to ``MAX_LEAD_IN_SECONDS``, so that its timeline runs from the Space's start as
    the wall clock does; a resumed recording carries on where its audio ends instead.
    ``on_stored`` and ``on_failure`` are called on the event loop; after a failure
    (storage refusing segments for too long) nothing more is recorded.
    """

    def __init__(
        self,
        storage: Storage,
        plan: SegmentPlan,
        clock: Clock,
        on_stored: Callable[[SegmentStored], None],
        on_failure: Callable[[BaseException], None],
    ) -> None:
        self.storage = storage
        self.plan = plan
        self.clock = clock
        self.on_stored = on_stored
        self.on_failure = on_failure
        self._loop = asyncio.get_running_loop()
        self.segmenter = LiveSegmenter(
            storage, plan.prefix, plan.started_at, on_segment=self._stored, resume=plan.resume
        )
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="record")
        self._batch: list[np.ndarray] = []
        self.failed: BaseException | None = None
        self._abandoned = False
        self._waiting_for_first = True
        self._until: int | None = None
        self._opened_at = time.monotonic()
        self.room_start = plan.resume.first_sample if plan.resume is not None else 0
        """Where the room's program starts on the recording's timeline, in samples:
        after a resumed recording's earlier part, or after the lead-in."""
        if plan.resume is None:
            late = (clock.now() - plan.started_at).total_seconds()
            seconds = min(max(late, 0.0), MAX_LEAD_IN_SECONDS)
            if seconds > 0:
                self._batch.append(np.zeros(round(seconds * SAMPLE_RATE), dtype=np.float32))
                self.room_start = len(self._batch[0])
        self._received = self.room_start
        """Samples of program taken, on the recording's timeline (lead-in included)."""

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
            if self.plan.resume is not None:  # the time until now is lost
                self.segmenter.resumed_from(self.clock.now())
        self._batch.append(frame)
        if len(self._batch) >= BATCH_FRAMES:
            self._submit()

    def stop_at(self, ended_at: float) -> None:
        """The Space ended at ``ended_at`` (``time.monotonic()``, the same clock in every
        process of the machine): take no program past it (what is still in flight while
        the room closes), so the recording lasts what the Space lasted."""
        ran = ended_at - self._opened_at
        self._until = max(self._received, self.room_start + round(ran * SAMPLE_RATE))

    def track(self, part: TrackPart) -> None:
        """Store a speaker track's part at its place on the recording's timeline."""
        if self.plan.tracks_prefix is None or not part.packets:
            return
        start = self.room_start + part.first_frame * FRAME_SAMPLES
        self.store(
            f"{self.plan.tracks_prefix}{part.speaker}/{start:012d}", part_bytes(part.packets)
        )

    def store(self, key: str, data: bytes) -> None:
        """Store ``data`` beside the segments, from the same thread (the event loop never
        waits for storage); a failure fails the recording as theirs do."""
        if self.failed is None and not self._abandoned:
            self._executor.submit(self.storage.put, key, data).add_done_callback(self._check)

    def _submit(self) -> None:
        if not self._batch:
            return
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

    def _stored(self, segment: StoredSegment, data: bytes) -> None:
        """On the encoding thread: a segment is durable; tell the room on its loop."""
        notice = SegmentStored(segment, data, self.segmenter.playlist, self.segmenter.duration)
        if not self._abandoned:
            self._loop.call_soon_threadsafe(self._tell, notice)

    def _tell(self, notice: SegmentStored) -> None:
        if not self._abandoned:
            self.on_stored(notice)

    def abandon(self) -> None:
        """Stop at once, storing and telling nothing more (another node ended the Space)."""
        self._abandoned = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Store what is left as a last, shorter segment; waits for every segment (and
        for their notices to be told: they are queued on the loop before this returns)."""
        if self.failed is None and not self._abandoned:
            self._submit()
            future = self._executor.submit(self.segmenter.close)
            future.add_done_callback(self._check)
            with contextlib.suppress(Exception):  # reported through on_failure
                await asyncio.wrap_future(future)
            await asyncio.sleep(0)  # the notices queued by the last segment run first
        self._executor.shutdown(wait=False, cancel_futures=True)
