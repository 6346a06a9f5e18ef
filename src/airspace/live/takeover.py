"""A live room moving between nodes: what the owner saves as it renews its lease, how
another node takes the room over (after the owner died, or when it drains on SIGTERM),
and where the recording carries on.

The owner saves the room's roster (members, roles, removals) and its counts with each
renewal. A node that takes the room over wins a conditional update of the lease, lists
the segments the previous owner stored but did not list, and continues the recording
after them — the next segment flagged as a discontinuity, its storage keys past anything
the previous owner may still write. Members' pages and speakers reconnect to it; those
that do not come back leave after the usual grace period.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from airspace.live import leases
from airspace.live.recovery import resume_point
from airspace.live.room import RoomState
from airspace.media.live_segmenter import Resume
from airspace.recordings.services import recording_for_space
from airspace.spaces.models import Space, SpaceState

if TYPE_CHECKING:
    from airspace.wiring import Services

HANDOVER_CHANNEL = "cluster:rooms"
"""Room events channel on which a draining node says a room is free to take at once."""


@dataclass(frozen=True)
class TakenRoom:
    state: RoomState
    started_at: datetime
    recording_id: int | None
    resume: Resume


@dataclass(frozen=True)
class SavedRoom:
    """What the owner keeps in the database about a room, besides its lease."""

    roster: str
    participants: int
    peak_listeners: int


def take_over(services: Services, space_id: str, now: datetime) -> TakenRoom | None:
    """Take the room of ``space_id`` for this node, if its lease has lapsed and nobody was
    faster; what the room starts from."""
    node = services.settings.node_id
    with services.sessions() as session:
        if not leases.take_over(session, space_id, node, now):
            session.rollback()
            return None
        session.commit()
        space = session.get_one(Space, space_id, populate_existing=True)
        recording = recording_for_space(session, space_id) if space.record else None
        resume = resume_point(services, session, space_id, recording, now)
        session.commit()
        state = RoomState(
            space_id=space.id,
            host_id=space.host_id,
            recording=space.record,
            ticketed=space.is_ticketed,
            peak_listeners=space.peak_listeners,
        )
        if space.room_roster:
            state.restore(json.loads(space.room_roster))
        assert space.started_at is not None
        return TakenRoom(
            state, space.started_at, recording.id if recording is not None else None, resume
        )


def stranded_ids(services: Services, hosted: Collection[str], now: datetime) -> list[str]:
    """Live Spaces whose lease lapsed (their owner died or drained), not hosted here."""
    node = services.settings.node_id
    with services.sessions() as session:
        return [
            space.id
            for space in leases.stranded(session, node, hosted, now, starting=False)
            if space.state is SpaceState.LIVE
        ]


def own_orphans(services: Services, hosted: Collection[str]) -> list[str]:
    """Live Spaces this node owned before it (re)started, not hosted now."""
    node = services.settings.node_id
    with services.sessions() as session:
        ids = session.scalars(
            select(Space.id).where(Space.state == SpaceState.LIVE, Space.owner_node == node)
        )
        return [space_id for space_id in ids if space_id not in hosted]


def save_rooms(services: Services, saved: Mapping[str, SavedRoom]) -> None:
    """Keep what a node taking a room over needs (only rooms held by this node)."""
    if not saved:
        return
    node = services.settings.node_id
    with services.sessions() as session:
        for space_id, room in saved.items():
            session.execute(
                update(Space)
                .where(Space.id == space_id, Space.owner_node == node)
                .values(room_roster=room.roster)
                .execution_options(synchronize_session=False)
            )
            space = session.get(Space, space_id)
            if space is not None:
                space.participant_count = max(space.participant_count, room.participants)
                space.peak_listeners = max(space.peak_listeners, room.peak_listeners)
        session.commit()


def release(services: Services, space_id: str, saved: SavedRoom, now: datetime) -> None:
    """Save the room and give up its lease: the next node to look takes it."""
    save_rooms(services, {space_id: saved})
    with services.sessions() as session:
        leases.release(session, space_id, services.settings.node_id, now)
        session.commit()


def saved_room(state: RoomState) -> SavedRoom:
    return SavedRoom(
        json.dumps(state.roster(), sort_keys=True), len(state.participants), state.peak_listeners
    )
