"""A speaker that stays in a room, as a speaker's page does: its microphone offered
through the room API of whichever node it reaches, and connected again when the
connection fails or the room no longer has it (the room moved to another node).

    speaker = RoomSpeaker(http, space_id, "alice", tone(440))
    task = asyncio.create_task(speaker.run())   # until the Space ends or it is cancelled
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from airspace.media.peer import FrameSource, SpeakerPeer

logger = logging.getLogger(__name__)

CHECK_SECONDS = 1.0
"""How often the speaker looks at its connection and at the room."""
MISSING_CHECKS = 3
"""Looks in a row in which the room shows this speaker's microphone as not connected
before it connects again (one may fall between an answer and the media arriving)."""
RETRY_SECONDS = (0.5, 1.0, 2.0, 4.0)
"""Pauses between failed attempts to connect, the last one repeated."""


class RoomSpeaker:
    """One speaker kept connected to a live room until the Space ends."""

    def __init__(
        self, http: httpx.AsyncClient, space_id: str, username: str, source: FrameSource
    ) -> None:
        """``http``: a client signed in as ``username`` (base URL: any node)."""
        self.http = http
        self.room = f"/api/v1/spaces/{space_id}/room"
        self.space = f"/api/v1/spaces/{space_id}"
        self.username = username
        self.source = source
        self.peer: SpeakerPeer | None = None
        self.connections = 0
        """How many times the microphone connected (reconnections are the rest)."""
        self._frame = 0

    async def run(self) -> None:
        """Connect, watch, reconnect; returns when the Space is no longer live."""
        failures = 0
        while await self._live():
            peer = SpeakerPeer(self.source, first_frame=self._frame)
            self.peer = peer
            try:
                await self._connect(peer)
                self.connections += 1
                failures = 0
                await self._while_connected(peer)
            except (httpx.HTTPError, ConnectionError, ValueError) as error:
                failures += 1
                logger.info("microphone of %s could not connect: %s", self.username, error)
            finally:
                self._frame = peer.track.number
                await peer.close()
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)])

    async def _live(self) -> bool:
        try:
            reply = await self.http.get(self.space)
        except httpx.HTTPError:
            return True  # the node is away: try through another one next time
        return reply.status_code != 200 or reply.json().get("state") == "live"

    async def _connect(self, peer: SpeakerPeer) -> None:
        joined = await self.http.post(f"{self.room}/join")  # as a page does; a no-op if in
        if joined.status_code != 200:
            raise ConnectionError(f"{joined.status_code} {joined.text[:200]}")
        answer = await self.http.post(
            f"{self.room}/microphone", json={"type": "offer", "sdp": await peer.offer()}
        )
        if answer.status_code != 200:
            raise ConnectionError(f"{answer.status_code} {answer.text[:200]}")
        await peer.accept(answer.json()["sdp"])

    async def _while_connected(self, peer: SpeakerPeer) -> None:
        """Returns when the connection failed or the room lost this microphone."""
        missing = 0
        while peer.pc.connectionState not in ("failed", "closed"):
            await asyncio.sleep(CHECK_SECONDS)
            try:
                reply = await self.http.get(self.room)
            except httpx.HTTPError:
                continue
            if reply.status_code != 200:
                continue  # between nodes for a moment, or ended (``run`` looks)
            members = {m["username"]: m for m in reply.json().get("members", [])}
            me = members.get(self.username)
            connected = me is not None and me.get("connected") is True
            missing = 0 if connected else missing + 1
            if missing >= MISSING_CHECKS or (me is None and not await self._live()):
                return
