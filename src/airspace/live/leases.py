"""Who holds a live Space's room: its owner node and a lease the owner keeps renewing.

Several ``airspace serve`` nodes share one database. A node that starts a Space owns its
room and renews the lease every second or two; one that stops renewing (it died, or
lost the database) has its rooms taken over by whichever node notices first (or, where
no other node can take them, its Spaces ended from what reached storage), while the
Spaces of healthy nodes are left alone, however often any node restarts.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from airspace.spaces.models import Space, SpaceState

LEASE = timedelta(seconds=5)
"""A lease not renewed for this long has expired: with the renewal interval, what bounds
the audio a takeover loses."""
RENEW_SECONDS = 1.5
"""How often an owner renews its leases, and checks for the expired leases of others."""


def take(space: Space, node_id: str, now: datetime) -> None:
    """``node_id`` holds the room of ``space`` from ``now``."""
    space.owner_node = node_id
    space.lease_expires_at = now + LEASE


def take_over(session: Session, space_id: str, node_id: str, now: datetime) -> bool:
    """Take the room of ``space_id`` from an owner whose lease expired (or that released
    it); False when it is no longer live or another node was first."""
    taken = session.execute(
        update(Space)
        .where(
            Space.id == space_id,
            Space.state == SpaceState.LIVE,
            or_(Space.lease_expires_at.is_(None), Space.lease_expires_at <= now),
        )
        .values(owner_node=node_id, lease_expires_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(taken, "rowcount", 0))


def release(session: Session, space_id: str, node_id: str, now: datetime) -> None:
    """Give up this node's lease at once (a drain): the next node to look takes the room."""
    session.execute(
        update(Space)
        .where(Space.id == space_id, Space.owner_node == node_id)
        .values(lease_expires_at=now)
        .execution_options(synchronize_session=False)
    )


def renew(session: Session, node_id: str, space_ids: Collection[str], now: datetime) -> set[str]:
    """Renew this node's leases on ``space_ids``; returns those it no longer holds (ended
    elsewhere, or taken over), whose rooms it must close without ending them again."""
    if not space_ids:
        return set()
    session.execute(
        update(Space)
        .where(
            Space.id.in_(space_ids),
            Space.state == SpaceState.LIVE,
            Space.owner_node == node_id,
        )
        .values(lease_expires_at=now + LEASE)
    )
    held = set(
        session.scalars(
            select(Space.id).where(
                Space.id.in_(space_ids),
                Space.state == SpaceState.LIVE,
                Space.owner_node == node_id,
            )
        )
    )
    return set(space_ids) - held


def stranded(
    session: Session, node_id: str, hosted: Collection[str], now: datetime, *, starting: bool
) -> list[Space]:
    """Live Spaces nobody holds: their lease expired (or they never had one). When this
    node is ``starting``, also those it owned before it stopped."""
    lapsed = or_(Space.lease_expires_at.is_(None), Space.lease_expires_at <= now)
    orphaned = Space.owner_node == node_id if starting else lapsed
    spaces = session.scalars(
        select(Space).where(Space.state == SpaceState.LIVE, or_(lapsed, orphaned))
    ).all()
    return [space for space in spaces if space.id not in hosted]


def holder(space: Space, now: datetime) -> str | None:
    """The node whose lease on ``space`` still holds, if any."""
    if space.owner_node is None or space.lease_expires_at is None:
        return None
    return space.owner_node if space.lease_expires_at > now else None
