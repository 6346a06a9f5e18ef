"""The live rooms of this process: going live, ending, and keeping leases (renewing,
taking rooms over, handing them over on the way out)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from airspace.accounts.models import User
from airspace.downloader import pending
from airspace.errors import Conflict
from airspace.live import leases, takeover
from airspace.live.events import follow
from airspace.live.live_room import LiveRoom
from airspace.live.recovery import recover_interrupted
from airspace.live.room import RoomState
from airspace.media.engine import MediaEngine
from airspace.recordings.services import enqueue_after_end
from airspace.spaces import services as spaces

if TYPE_CHECKING:
    from airspace.wiring import Services

logger = logging.getLogger(__name__)

IDLE_WARNING_SECONDS = 60.0
"""How long before an idle Space ends its room is told."""


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
        await self._open_media(room)

    async def _open_media(self, room: LiveRoom) -> None:
        """Start the room's program clock: the engine stores its program (and, recorded,
        each speaker's track) as ``room.segments`` says."""
        room.room_start = await self.engine.open_room(room.space_id, room, segments=room.segments)

    def _start_in_db(self, space_id: str, user_id: int) -> tuple[RoomState, datetime, int | None]:
        with self.services.sessions() as session:
            space = spaces.get(session, space_id)
            user = session.get_one(User, user_id)
            now = self.services.clock.now()
            most = self.services.settings.live_spaces_per_host
            recording = spaces.start(session, space, user, now, most_live=most)
            if space.record:
                pending.tell_started(session, space, now)
            else:
                pending.drop_unfulfillable(session, space, "is not being recorded", now)
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
            room.stop_now()
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
        await self._open_media(room)
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
        """A draining node says which rooms it let go: take them at once. (Handovers
        said while the channel was lost are missed: ``keep_leases`` takes those rooms
        over once their leases expire.)"""
        async for event in follow(self.services.events, takeover.HANDOVER_CHANNEL):
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
