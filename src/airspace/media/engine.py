"""The media engine: where speakers' WebRTC audio is mixed.

The in-process engine (``aiortc_engine.py``) runs inside ``airspace serve``; a Janus
AudioBridge engine can take its place at scale behind the same Protocol.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from airspace.errors import AirspaceError
from airspace.media.activity import ActivityChange
from airspace.media.link_quality import LinkQuality
from airspace.media.program_recorder import SegmentPlan, SegmentStored
from airspace.media.speaker_tracks import TrackPart


class InvalidOffer(AirspaceError):
    """An SDP offer the engine cannot answer (HTTP 400)."""

    status_code = 400


class MediaOverloaded(AirspaceError):
    """The media engine is falling behind: no new microphone until it catches up (503).
    The rooms already running keep their speakers."""

    status_code = 503
    RETRY_AFTER_SECONDS = 30

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.RETRY_AFTER_SECONDS)}


class RoomCallbacks(Protocol):
    """What a room hears back from the engine. Called on the engine's event loop."""

    def program(self, frame: np.ndarray) -> None:
        """The next 20 ms of the program mix (float32 mono, 48 kHz): one call every 20 ms
        of wall-clock time from the opening of the room, silence when nobody talks.
        Rooms opened with a SegmentPlan store their program instead (see
        ``segment_stored``) and never call this."""
        ...

    def segment_stored(self, stored: SegmentStored) -> None:
        """A segment of the program is durable in storage (rooms opened with a
        SegmentPlan), in order; the last ones before ``close_room`` returns."""
        ...

    def activity(self, change: ActivityChange) -> None:
        """A speaker started or stopped talking (time in seconds since the room opened)."""
        ...

    def link_quality(self, speaker: str, quality: LinkQuality) -> None:
        """How a speaker's connection is doing (every few seconds while connected)."""
        ...

    def speaker_track(self, part: TrackPart) -> None:
        """The next part of a speaker's own track (rooms opened with ``tracks`` and no
        SegmentPlan, which stores them itself): every 10 s while the room runs, and what
        is left as it closes."""
        ...

    def speaker_lost(self, speaker: str) -> None:
        """A speaker's connection dropped and stayed down past the timeout; the engine has
        already removed them."""
        ...

    def failed(self, error: BaseException) -> None:
        """The room's engine failed and stopped producing the program."""
        ...


class MediaEngine(Protocol):
    async def start(self) -> None:
        """Get ready to open rooms without delay (a server calls it as it starts, so that
        its first room, or one handed over from a draining node, does not wait for worker
        processes to start); calling it again changes nothing."""
        ...

    async def open_room(
        self,
        room: str,
        callbacks: RoomCallbacks,
        tracks: bool = False,
        segments: SegmentPlan | None = None,
    ) -> int:
        """Start the room's program clock; its program goes to ``callbacks.program``
        from now on, or, with ``segments``, is encoded and stored where the room is mixed
        (AAC in HLS segments, and each speaker's track when the plan names where). With
        ``tracks``, each speaker's voice is also kept as a track of its own. Returns
        where the room's program starts on the recording's timeline, in samples (0
        without ``segments``)."""
        ...

    async def add_speaker(self, room: str, speaker: str, offer_sdp: str) -> str:
        """Connect ``speaker`` from a WebRTC offer; returns the SDP answer. A speaker who
        is already connected is replaced by the new connection. Raises InvalidOffer."""
        ...

    async def remove_speaker(self, room: str, speaker: str) -> None:
        """Disconnect ``speaker``; nothing happens if they are not connected."""
        ...

    async def set_muted(self, room: str, speaker: str, muted: bool) -> None:
        """Leave a speaker's audio out of every mix while muted."""
        ...

    def connected(self, room: str) -> set[str]:
        """The speakers whose media is connected."""
        ...

    async def close_room(
        self, room: str, ended_at: float | None = None, abandon: bool = False
    ) -> None:
        """Disconnect everyone and stop the clock; no callbacks after this returns. A
        room with a SegmentPlan stores what is left of its program first, up to
        ``ended_at`` (``time.monotonic()``: when the Space ended), or, with ``abandon``
        (another node ended the Space), stores nothing more at once."""
        ...

    async def close(self) -> None:
        """Close every room and release the engine (worker processes, sockets)."""
        ...
