"""One live Space in this process: the room rules, the media engine (which stores the
program), the recording's listing and the room's event channel joined, from go-live (or
takeover) to the end."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from airspace.http_errors import OUTAGE_KINDS, outage_of
from airspace.live.events import follow
from airspace.live.recorder import LiveEdge, SegmentLister, live_prefix
from airspace.live.room import Event, RoomState
from airspace.media.activity import ActivityChange
from airspace.media.constants import SAMPLE_RATE
from airspace.media.link_quality import LinkQuality
from airspace.media.live_segmenter import Resume
from airspace.media.program_recorder import SegmentPlan, SegmentStored
from airspace.media.speaker_tracks import TrackPart
from airspace.recordings.models import SpeakerTurn
from airspace.recordings.speaker_tracks import track_parts_prefix
from airspace.spaces.models import Space

if TYPE_CHECKING:
    from airspace.live.rooms import LiveRooms
    from airspace.wiring import Services

logger = logging.getLogger(__name__)

END_RETRY_SECONDS = 1.0
"""How often a failed room tries again to end its Space while the database is away."""
PAGE_GRACE_SECONDS = 20.0
"""How long a member whose last room page closed stays in the room: a reload is back
well within it."""


def room_channel(space_id: str) -> str:
    return f"space:{space_id}"


def room_presence_channel(space_id: str) -> str:
    """Where other nodes say a member's room page opened or closed there."""
    return f"presence:{space_id}"


class LiveRoom:
    """One live Space. The engine calls back into it (RoomCallbacks) on the event loop."""

    page_grace_seconds = PAGE_GRACE_SECONDS

    def __init__(
        self,
        rooms: LiveRooms,
        state: RoomState,
        started_at: datetime,
        recording_id: int | None,
        resume: Resume | None = None,
    ) -> None:
        self.rooms = rooms
        self.services = rooms.services
        self.state = state
        self.recording_id = recording_id
        self.segments = SegmentPlan(
            live_prefix(state.space_id),
            started_at,
            resume,
            track_parts_prefix(state.space_id) if recording_id is not None else None,
        )
        """How the media engine stores the program (and each speaker's track, recorded)."""
        self.edge = LiveEdge()
        self.lister = (
            SegmentLister(self.services, recording_id, self.failed)
            if recording_id is not None
            else None
        )
        self.room_start = 0
        """Where the room's program starts on the recording's timeline, in samples
        (after the lead-in, or a resumed recording's earlier part): set as it opens."""
        self.ended_at: float | None = None
        """When the Space ended (``time.monotonic()``): the recording stops there."""
        self.saved_roster: str | None = None
        """The roster as last saved with the lease (see ``LiveRooms._renew_leases``)."""
        self.open_turns: dict[int, float] = {}
        self._outbox: asyncio.Queue[Event | None] = asyncio.Queue()
        self._publisher = asyncio.create_task(self._publish_in_order())
        self._presence = asyncio.create_task(self._follow_presence())
        self._failing = False
        self._closing = False
        self._ending: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._pages: dict[int, int] = {}
        """Signed-in member → how many room pages (event sockets) they have open."""
        self._leave_timers: dict[int, asyncio.TimerHandle] = {}
        self.last_active = asyncio.get_running_loop().time()
        """When someone last talked or held a connected microphone (event-loop seconds)."""
        self.idle_warned = False

    @property
    def space_id(self) -> str:
        return self.state.space_id

    # -- what live listeners fetch from this node ----------------------------------------

    def playlist(self) -> bytes:
        """The live playlist of the last few segments (made once per new segment)."""
        return self.edge.playlist

    def segment(self, name: str) -> bytes | None:
        """A segment at the live edge (``000042.ts``), from memory; None once it has left
        the window (it is in storage by then)."""
        return self.edge.segment(name)

    # -- RoomCallbacks -----------------------------------------------------------------

    def program(self, frame: np.ndarray) -> None:
        """Not called: the room is opened with a SegmentPlan (see ``segment_stored``)."""

    def segment_stored(self, stored: SegmentStored) -> None:
        """Serve it at the live edge, and list it on the recording."""
        self.edge.stored(stored)
        if self.lister is not None:
            self.lister.list(stored.segment)

    def activity(self, change: ActivityChange) -> None:
        self.last_active = asyncio.get_running_loop().time()
        user_id = int(change.speaker)
        member = self.state.members.get(user_id)
        at = change.at + self.room_start / SAMPLE_RATE  # on the recording's timeline
        if change.speaking:
            self.open_turns[user_id] = at
        else:
            started = self.open_turns.pop(user_id, None)
            if started is not None:
                self._save_turn(user_id, started, at)
        if member is not None:
            member.speaking = change.speaking
            kind = "speaking_started" if change.speaking else "speaking_stopped"
            self.publish(self.state.event(kind, member, at=round(at, 2)))

    def link_quality(self, speaker: str, quality: LinkQuality) -> None:
        """Kept on the member (the room's state shows the numbers); the pages hear of it
        when the connection turns poor or good again."""
        member = self.state.members.get(int(speaker))
        if member is None:
            return
        was_poor = bool(member.link and member.link["poor"])
        member.link = quality.public()
        if quality.poor != was_poor:
            self.publish(self.state.event("connection", member))

    def speaker_track(self, part: TrackPart) -> None:
        """Not called: the engine stores the tracks (``SegmentPlan.tracks_prefix``)."""

    def stop_now(self) -> None:
        """The Space ended now: the program is recorded up to this moment (what is still
        in flight while the room closes is not part of it)."""
        if self.ended_at is None:
            self.ended_at = time.monotonic()

    def speaker_lost(self, speaker: str) -> None:
        member = self.state.members.get(int(speaker))
        if member is not None:
            member.connected = False
            event = self.state.leave(member.user_id)
            if event is not None:
                self.publish({**event, "reason": "connection lost"})

    def failed(self, error: BaseException) -> None:
        if not self._failing and not self._closing:
            self._failing = True
            logger.error("room %s failed (%s); ending the Space", self.space_id, error)
            self._ending = asyncio.create_task(self._end_when_possible())

    async def _end_when_possible(self) -> None:
        """End the failed room's Space, trying again while what ending needs (the
        database, say) is away: a Space left live with a room that records nothing
        would lose everything said in it."""
        while True:
            try:
                await self.rooms.end_space(self.space_id, None)
                return
            except OUTAGE_KINDS as error:
                if outage_of(error) is None:
                    raise
                logger.warning("cannot end %s yet (%s); trying again", self.space_id, error)
                await asyncio.sleep(END_RETRY_SECONDS)

    # -- open pages ------------------------------------------------------------------

    def pages_open(self, user_id: int) -> int:
        """How many room pages ``user_id`` has open (on any node)."""
        return self._pages.get(user_id, 0)

    def page_opened(self, user_id: int) -> None:
        self._pages[user_id] = self._pages.get(user_id, 0) + 1
        timer = self._leave_timers.pop(user_id, None)
        if timer is not None:
            timer.cancel()

    def page_closed(self, user_id: int) -> None:
        """A member closed a room page. When it was their last, they leave after a grace
        period (a reload comes back within it), unless their microphone is connected:
        the media watchdog looks after those."""
        remaining = self._pages.pop(user_id, 1) - 1
        if remaining > 0:
            self._pages[user_id] = remaining
        elif not self._closing:
            loop = asyncio.get_running_loop()
            self._leave_timers[user_id] = loop.call_later(
                self.page_grace_seconds, self._leave_if_gone, user_id
            )

    async def _follow_presence(self) -> None:
        """Pages open on other nodes count as pages open here (best effort: what is
        said while the channel is lost, the grace period before leaving covers)."""
        async for said in follow(self.services.events, room_presence_channel(self.space_id)):
            user_id = said.get("user_id")
            if isinstance(user_id, int) and said.get("opened") is True:
                self.page_opened(user_id)
            elif isinstance(user_id, int):
                self.page_closed(user_id)

    def _leave_if_gone(self, user_id: int) -> None:
        self._leave_timers.pop(user_id, None)
        member = self.state.members.get(user_id)
        if user_id in self._pages or member is None or member.connected or self._closing:
            return
        event = self.state.leave(user_id)
        if event is not None:
            self.publish({**event, "reason": "page closed"})

    # -- events ------------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        self._outbox.put_nowait(event)

    async def _publish_in_order(self) -> None:
        channel = room_channel(self.space_id)
        while (event := await self._outbox.get()) is not None:
            try:
                await self.services.events.publish(channel, event)
            except Exception:  # a broken event bus must not take the room down
                logger.exception("cannot publish a room event of %s", self.space_id)

    async def _drain_events(self) -> None:
        self._presence.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._presence
        self._outbox.put_nowait(None)
        await self._publisher

    # -- speaker timeline --------------------------------------------------------------

    def _save_turn(self, user_id: int, start: float, end: float) -> None:
        if self.recording_id is None or end <= start:
            return
        member = self.state.members.get(user_id)
        name = member.display_name if member is not None else ""
        self._background(
            asyncio.to_thread(
                _store_turn, self.services, self.recording_id, user_id, name, start, end
            )
        )

    def _background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def abandon(self) -> None:
        """The Space was ended by another node (this one had stopped renewing its lease):
        stop the media and the recording without writing anything more; announce the end."""
        self._closing = True
        for timer in self._leave_timers.values():
            timer.cancel()
        if self.lister is not None:
            self.lister.abandon()
        await self.rooms.engine.close_room(self.space_id, abandon=True)
        self.publish(self.state.event("ended"))
        await self._drain_events()

    def expect_back(self) -> None:
        """After a takeover: members whose pages do not come back to the room (through
        any node) within the grace period leave, as if they had closed them."""
        for user_id in list(self.state.members):
            self._pages.setdefault(user_id, 1)
            self.page_closed(user_id)

    async def close(self, *, ending: bool = True) -> None:
        """Stop the media, store the last segment and the counts; announce the end.
        Without ``ending`` (handing the room to another node) the recording's live
        segments stay and nothing is announced: the room carries on elsewhere."""
        self._closing = True
        for timer in self._leave_timers.values():
            timer.cancel()
        await self.rooms.engine.close_room(self.space_id, self.ended_at)
        if self.lister is not None:
            await self.lister.close()
        for user_id, started in list(self.open_turns.items()):
            self._save_turn(user_id, started, self.edge.duration)
        self.open_turns.clear()
        await asyncio.gather(*self._tasks)
        await asyncio.to_thread(
            _store_counts,
            self.services,
            self.space_id,
            len(self.state.participants),
            self.state.peak_listeners,
        )
        if ending and self.recording_id is None:
            await asyncio.to_thread(self.services.storage.delete_prefix, live_prefix(self.space_id))
        if ending:
            self.publish(self.state.event("ended"))
        await self._drain_events()


def _store_turn(
    services: Services, recording_id: int, user_id: int, name: str, start: float, end: float
) -> None:
    with services.sessions() as session:
        session.add(
            SpeakerTurn(
                recording_id=recording_id,
                user_id=user_id,
                speaker_name=name[:50],
                start_seconds=round(start, 3),
                end_seconds=round(end, 3),
            )
        )
        session.commit()


def _store_counts(services: Services, space_id: str, participants: int, peak: int) -> None:
    with services.sessions() as session:
        space = session.get(Space, space_id)
        if space is not None:
            space.participant_count = max(space.participant_count, participants)
            space.peak_listeners = max(space.peak_listeners, peak)
            session.commit()
