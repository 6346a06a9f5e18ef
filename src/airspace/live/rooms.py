"""Live rooms of this process: each joins the room rules, the media engine, the program
recorder and the room's event channel, from go-live to the end of the Space."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from airspace.accounts.models import User
from airspace.errors import Conflict
from airspace.live import leases, takeover
from airspace.live.recorder import ProgramRecorder, live_prefix
from airspace.live.recovery import recover_interrupted
from airspace.live.room import Event, RoomState
from airspace.media.activity import ActivityChange
from airspace.media.engine import MediaEngine
from airspace.media.live_segmenter import Resume
from airspace.recordings.models import SpeakerTurn
from airspace.recordings.services import enqueue_after_end
from airspace.spaces import services as spaces
from airspace.spaces.models import Space

if TYPE_CHECKING:
    from airspace.wiring import Services

logger = logging.getLogger(__name__)

IDLE_WARNING_SECONDS = 60.0
"""How long before an idle Space ends its room is told."""
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
        self.recorder = ProgramRecorder(
            self.services, state.space_id, started_at, recording_id, self.failed, resume
        )
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

    # -- RoomCallbacks -----------------------------------------------------------------

    def program(self, frame: np.ndarray) -> None:
        self.recorder.program(frame)

    def activity(self, change: ActivityChange) -> None:
        self.last_active = asyncio.get_running_loop().time()
        user_id = int(change.speaker)
        member = self.state.members.get(user_id)
        at = change.at + self.recorder.resumed_at  # on the recording's timeline
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
            self._ending = asyncio.create_task(self.rooms.end_space(self.space_id, None))

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
        """Pages open on other nodes count as pages open here."""
        channel = room_presence_channel(self.space_id)
        try:
            async with self.services.events.subscribe(channel) as presence:
                while True:
                    said = await presence.get()
                    user_id = said.get("user_id")
                    if isinstance(user_id, int) and said.get("opened") is True:
                        self.page_opened(user_id)
                    elif isinstance(user_id, int):
                        self.page_closed(user_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # presence is best effort: the grace period covers the rest
            logger.warning("stopped following page presence of %s", self.space_id, exc_info=True)

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
        self.recorder.abandon()
        await self.rooms.engine.close_room(self.space_id)
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
        await self.rooms.engine.close_room(self.space_id)
        await self.recorder.close()
        for user_id, started in list(self.open_turns.items()):
            self._save_turn(user_id, started, self.recorder.duration)
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


class LiveRooms:
    """The rooms this process hosts, by Space id."""

    def __init__(self, services: Services, engine: MediaEngine) -> None:
        self.services = services
        self.engine = engine
        self.rooms: dict[str, LiveRoom] = {}
        self._ending: dict[str, asyncio.Task[None]] = {}

    def get(self, space_id: str) -> LiveRoom:
        room = self.rooms.get(space_id)
        if room is None:
            raise Conflict("this Space is not live")
        return room

    async def start_space(self, space_id: str, user_id: int) -> None:
        """Go live: the Space's state, its recording row, then its room."""
        state, started_at, recording_id = await asyncio.to_thread(
            self._start_in_db, space_id, user_id
        )
        room = LiveRoom(self, state, started_at, recording_id)
        self.rooms[space_id] = room
        await self.engine.open_room(space_id, room)
        room.recorder.room_opened()

    def _start_in_db(self, space_id: str, user_id: int) -> tuple[RoomState, datetime, int | None]:
        with self.services.sessions() as session:
            space = spaces.get(session, space_id)
            user = session.get_one(User, user_id)
            now = self.services.clock.now()
            most = self.services.settings.live_spaces_per_host
            recording = spaces.start(session, space, user, now, most_live=most)
            leases.take(space, self.services.settings.node_id, now)
            session.commit()
            assert space.started_at is not None
            state = RoomState(
                space_id=space.id,
                host_id=space.host_id,
                recording=space.record,
                ticketed=space.is_ticketed,
            )
            return state, space.started_at, recording.id if recording is not None else None

    async def end_space(self, space_id: str, user_id: int | None) -> None:
        """End a live Space: by its host (``user_id``), or by the system when None.
        Concurrent calls share one ending."""
        if space_id in self._ending:
            await asyncio.shield(self._ending[space_id])
            return
        room = self.rooms.get(space_id)
        recording_id = await asyncio.to_thread(self._end_in_db, space_id, user_id)
        if room is not None:
            # The Space ended now: program that arrives after (in flight while the
            # room closes) is not part of it.
            room.recorder.stop_now()
        task = asyncio.create_task(self._close_and_finalize(space_id, recording_id))
        self._ending[space_id] = task
        try:
            await asyncio.shield(task)
        finally:
            self._ending.pop(space_id, None)

    def _end_in_db(self, space_id: str, user_id: int | None) -> int | None:
        hold = timedelta(days=self.services.settings.moderation_hold_days)
        now = self.services.clock.now()
        with self.services.sessions() as session:
            space = spaces.get(session, space_id)
            holder = leases.holder(space, now)
            if space_id not in self.rooms and holder not in (None, self.services.settings.node_id):
                # Ending it here would leave its room recording on the node that holds it.
                raise Conflict(f"this Space's room is on another server ({holder}); end it there")
            if user_id is None:
                recording = spaces.finish(session, space, now, hold)
            else:
                recording = spaces.end(session, space, session.get_one(User, user_id), now, hold)
            session.commit()
            return recording.id if recording is not None else None

    async def _close_and_finalize(self, space_id: str, recording_id: int | None) -> None:
        room = self.rooms.pop(space_id, None)
        if room is not None:
            await room.close()
        if recording_id is not None:
            await asyncio.to_thread(enqueue_after_end, self.services, space_id, recording_id)

    @property
    def takes_over(self) -> bool:
        """Whether rooms move between nodes here: with several nodes, whose clients reach
        any of them through a balancer (room commands are relayed to the owner)."""
        return self.services.relay.reaches_other_nodes

    async def recover(self) -> None:
        """At start: Spaces this node (or a dead one) left live. With other nodes they
        are taken over; alone, they are ended where their stored audio ends."""
        hosted = set(self.rooms)
        if self.takes_over:
            orphans = await asyncio.to_thread(takeover.own_orphans, self.services, hosted)
            for space_id in orphans:  # this node died and is back before anyone noticed
                await asyncio.to_thread(self._release_lease, space_id)
            await self.take_over_stranded()
        ended = await asyncio.to_thread(recover_interrupted, self.services, set(self.rooms))
        if ended:
            logger.warning("ended %d Space(s) left live by a stopped server", len(ended))

    def _release_lease(self, space_id: str) -> None:
        with self.services.sessions() as session:
            leases.release(
                session, space_id, self.services.settings.node_id, self.services.clock.now()
            )
            session.commit()

    async def take_over_stranded(self) -> list[str]:
        """Take over every room whose owner stopped renewing its lease."""
        now = self.services.clock.now()
        stranded = await asyncio.to_thread(
            takeover.stranded_ids, self.services, set(self.rooms), now
        )
        return [space_id for space_id in stranded if await self.take_over(space_id)]

    async def take_over(self, space_id: str) -> bool:
        """Run the room of ``space_id`` here from now on, if its lease lapsed and no other
        node was first: the same recording carries on after a discontinuity, and the
        room is told it moved (pages and speakers reconnect)."""
        if space_id in self.rooms or space_id in self._ending:
            return False
        taken = await asyncio.to_thread(
            takeover.take_over, self.services, space_id, self.services.clock.now()
        )
        if taken is None or space_id in self.rooms:
            return False
        room = LiveRoom(self, taken.state, taken.started_at, taken.recording_id, taken.resume)
        self.rooms[space_id] = room
        await self.engine.open_room(space_id, room)
        room.recorder.room_opened()
        room.expect_back()
        room.publish(room.state.event("moved", node=self.services.settings.node_id))
        logger.warning(
            "took over the room of Space %s (recording resumes at %.2f s)",
            space_id,
            taken.resume.first_sample / 48_000,
        )
        return True

    async def run(self) -> None:
        """Keep this node's leases and take over rooms others let go. Runs until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self.keep_leases())
            if self.takes_over:
                group.create_task(self._take_handed_over())

    async def _take_handed_over(self) -> None:
        """A draining node says which rooms it let go: take them at once."""
        async with self.services.events.subscribe(takeover.HANDOVER_CHANNEL) as handovers:
            while True:
                event = await handovers.get()
                if event.get("node") == self.services.settings.node_id:
                    continue
                await asyncio.sleep(random.uniform(0, 0.1))  # spread rooms over the nodes
                try:
                    await self.take_over(str(event.get("space_id")))
                except Exception:
                    logger.exception("could not take over a room handed over")

    async def keep_leases(self) -> None:
        """Every second or two: renew this node's leases (closing rooms it no longer
        holds), save each room's roster, and take over (or end, alone) the Spaces of
        nodes whose leases expired. Runs until cancelled."""
        while True:
            await asyncio.sleep(leases.RENEW_SECONDS)
            try:
                lost = await asyncio.to_thread(self._renew_leases)
                for space_id in lost:
                    room = self.rooms.pop(space_id, None)
                    if room is not None:
                        logger.warning(
                            "Space %s is held elsewhere now; its room here stops", space_id
                        )
                        await room.abandon()
                await self.end_idle_rooms()
                if self.takes_over:
                    await self.take_over_stranded()
                else:
                    hosted = set(self.rooms)
                    ended = await asyncio.to_thread(
                        recover_interrupted, self.services, hosted, starting=False
                    )
                    if ended:
                        logger.warning("ended %d Space(s) whose node stopped renewing", len(ended))
            except Exception:  # the database is away for a moment: try again next time
                logger.warning("could not renew live Space leases", exc_info=True)

    async def end_idle_rooms(self) -> list[str]:
        """End the Spaces where nobody has talked or held a connected microphone for
        ``AIRSPACE_IDLE_END_MINUTES``, after warning the room a minute before."""
        limit = self.services.settings.idle_end_minutes * 60.0
        now = asyncio.get_running_loop().time()
        ended = []
        for space_id, room in list(self.rooms.items()):
            if any(m.connected or m.speaking for m in room.state.members.values()):
                room.last_active, room.idle_warned = now, False
                continue
            idle = now - room.last_active
            if idle >= limit:
                logger.warning("Space %s was idle for %.0f s; ending it", space_id, idle)
                with contextlib.suppress(Conflict):
                    await self.end_space(space_id, None)
                ended.append(space_id)
            elif idle >= limit - IDLE_WARNING_SECONDS and not room.idle_warned:
                room.idle_warned = True
                room.publish(room.state.event("idle_warning", ends_in_seconds=round(limit - idle)))
        return ended

    def _renew_leases(self) -> set[str]:
        with self.services.sessions() as session:
            lost = leases.renew(
                session, self.services.settings.node_id, list(self.rooms), self.services.clock.now()
            )
            session.commit()
        changed = {}
        for space_id, room in list(self.rooms.items()):
            saved = takeover.saved_room(room.state)
            if saved.roster != room.saved_roster and space_id not in lost:
                changed[space_id] = saved
        takeover.save_rooms(self.services, changed)
        for space_id, saved in changed.items():
            if space_id in self.rooms:
                self.rooms[space_id].saved_roster = saved.roster
        return {space_id for space_id in lost if space_id not in self._ending}

    async def shutdown(self) -> None:
        """The server is stopping. Where another node runs, hand it every room (a drain:
        the Spaces stay live); alone, end every Space, keeping what was recorded."""
        peers = await self.services.relay.peers(self.services.settings.node_id)
        for space_id in list(self.rooms):
            if peers:
                try:
                    await self.hand_over(space_id)
                    continue
                except Exception:
                    logger.exception("could not hand Space %s over; ending it", space_id)
            with contextlib.suppress(Conflict):
                await self.end_space(space_id, None)
        await self.engine.close()

    async def hand_over(self, space_id: str) -> None:
        """Stop the room here, keeping everything it recorded, and let another node take
        it at once."""
        room = self.rooms[space_id]
        saved = takeover.saved_room(room.state)
        room.publish(room.state.event("moving"))
        await room.close(ending=False)
        self.rooms.pop(space_id, None)
        now = self.services.clock.now()
        await asyncio.to_thread(takeover.release, self.services, space_id, saved, now)
        node = self.services.settings.node_id
        await self.services.events.publish(
            takeover.HANDOVER_CHANNEL, {"space_id": space_id, "node": node}
        )
        logger.warning("handed the room of Space %s over to another node", space_id)
