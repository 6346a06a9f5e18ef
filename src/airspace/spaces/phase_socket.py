"""A Space's phase over a WebSocket: the phase now, then each change, for as long as the
page is open.

Changes come from anywhere (another node starting the Space, a worker finishing the
replay or the captions), so each node reads them from the database: one read per watched
Space every ``POLL_SECONDS`` in this process, however many pages follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from fastapi import APIRouter, WebSocket

from airspace.errors import NotFound
from airspace.spaces.phase import SpacePhase, phase_of
from airspace.web_sockets import WEBSOCKET_POLICY_VIOLATION, send_until_gone

if TYPE_CHECKING:
    from airspace.wiring import Services

router = APIRouter(prefix="/spaces/{space_id}", tags=["spaces"])
logger = logging.getLogger(__name__)

POLL_SECONDS = 2.0


class PhaseWatch:
    """Reads the phase of each Space some page follows, and hands every change to them."""

    def __init__(self, services: Services, poll_seconds: float = POLL_SECONDS) -> None:
        self.services = services
        self.poll_seconds = poll_seconds
        self._followers: dict[str, set[asyncio.Queue[SpacePhase]]] = {}
        self._polls: dict[str, asyncio.Task[None]] = {}
        self._last: dict[str, SpacePhase] = {}

    @contextlib.asynccontextmanager
    async def follow(self, space_id: str) -> AsyncIterator[asyncio.Queue[SpacePhase]]:
        """A queue that receives the Space's phase whenever it changes."""
        queue: asyncio.Queue[SpacePhase] = asyncio.Queue()
        self._followers.setdefault(space_id, set()).add(queue)
        if space_id not in self._polls:
            self._polls[space_id] = asyncio.create_task(self._poll(space_id))
        try:
            yield queue
        finally:
            followers = self._followers.get(space_id, set())
            followers.discard(queue)
            if not followers:
                self._followers.pop(space_id, None)
                self._last.pop(space_id, None)
                poll = self._polls.pop(space_id, None)
                if poll is not None:
                    poll.cancel()

    def read(self, space_id: str) -> SpacePhase:
        with self.services.sessions() as session:
            return phase_of(session, space_id)

    async def _poll(self, space_id: str) -> None:
        while True:
            try:
                phase = await asyncio.to_thread(self.read, space_id)
            except NotFound:
                return
            except Exception:  # the database is away for a moment: the pages wait
                logger.warning("could not read the phase of Space %s", space_id, exc_info=True)
            else:
                if phase != self._last.get(space_id):
                    self._last[space_id] = phase
                    for queue in self._followers.get(space_id, ()):
                        queue.put_nowait(phase)
            await asyncio.sleep(self.poll_seconds)


@router.websocket("/phase")
async def phase_events(websocket: WebSocket, space_id: str) -> None:
    """The Space's phase (``{"type": "phase", "view", "state", "recording", "captions",
    "captions_progress"}``) now and on every change. Clients may send anything (a ping);
    it is ignored."""
    watch: PhaseWatch = websocket.app.state.phase_watch
    await websocket.accept()
    try:
        current = await asyncio.to_thread(watch.read, space_id)
    except NotFound as error:
        await websocket.close(code=WEBSOCKET_POLICY_VIOLATION, reason=error.detail)
        return
    async with watch.follow(space_id) as changes:
        await websocket.send_json(current.as_json())
        sent = current

        async def send(phase: SpacePhase) -> bool:
            nonlocal sent
            if phase != sent:
                await websocket.send_json(phase.as_json())
                sent = phase
            return True

        await send_until_gone(websocket, changes.get, send, _drain(websocket))


async def _drain(websocket: WebSocket) -> None:
    """Read what the client sends (pings) until it goes away."""
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass
