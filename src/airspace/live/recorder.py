"""The server's half of a live room's recording: the media engine stores the segments
(airspace.media.program_recorder) and tells the room; here each stored segment is
listed on the recording, in order, off the event loop, and the live edge (the playlist
and the last few segments) is kept in memory for the room's listeners."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from airspace.http_errors import OUTAGE_KINDS, outage_of
from airspace.media.constants import SEGMENT_SECONDS
from airspace.media.hls_segments import media_playlist
from airspace.media.live_segmenter import HOT_WINDOW, MAX_UNSTORED, StoredSegment
from airspace.media.program_recorder import SegmentStored
from airspace.recordings.services import add_segment

if TYPE_CHECKING:
    from airspace.wiring import Services

logger = logging.getLogger(__name__)


def live_prefix(space_id: str) -> str:
    """Where a Space's live segments are stored (inside the recording's media prefix)."""
    return f"spaces/{space_id}/live/"


class LiveEdge:
    """The live playlist and the segments it names, as the engine last stored them."""

    def __init__(self) -> None:
        self.playlist = media_playlist([], target_duration=SEGMENT_SECONDS).encode()
        self.duration = 0.0
        """Seconds of program stored so far (where the recording's timeline stands)."""
        self._hot: OrderedDict[str, bytes] = OrderedDict()

    def stored(self, notice: SegmentStored) -> None:
        self._hot[notice.segment.name] = notice.data
        while len(self._hot) > HOT_WINDOW:
            self._hot.popitem(last=False)
        self.playlist = notice.playlist
        self.duration = notice.duration

    def segment(self, name: str) -> bytes | None:
        """A segment at the live edge, from memory, or None once it has left the window."""
        return self._hot.get(name)


class SegmentLister:
    """Lists segments durable in storage on the recording, in order, from a thread of
    its own, while this node holds the room. While the database is away, a segment (and
    those after it) waits to be listed once it is back; the Space goes on meanwhile.
    Beyond ``MAX_UNSTORED`` waiting, ``on_failure`` is called on the event loop."""

    def __init__(
        self,
        services: Services,
        recording_id: int,
        on_failure: Callable[[BaseException], None],
    ) -> None:
        self.services = services
        self.recording_id = recording_id
        self.on_failure = on_failure
        self._loop = asyncio.get_running_loop()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="list-segments")
        self._unlisted: deque[StoredSegment] = deque()
        """Segments durable in storage that the database did not take yet, oldest first."""
        self._failed = False

    def list(self, segment: StoredSegment) -> None:
        if not self._failed:
            self._executor.submit(self._list, segment).add_done_callback(self._check)

    def _list(self, segment: StoredSegment) -> None:
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

    def _check(self, future: Future[Any]) -> None:
        if future.cancelled():
            return
        error = future.exception()
        if error is not None and not self._failed:
            self._failed = True
            self._loop.call_soon_threadsafe(self.on_failure, error)

    def abandon(self) -> None:
        """List nothing more (another node ended the Space)."""
        self._failed = True
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        """Wait until every segment told so far is listed (or failed to be)."""
        with contextlib.suppress(Exception):  # reported through on_failure
            await asyncio.wrap_future(self._executor.submit(lambda: None))
        self._executor.shutdown(wait=False, cancel_futures=True)
