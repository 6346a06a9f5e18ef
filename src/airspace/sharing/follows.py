"""Following hosts: a follower hears when a host goes live, schedules a Space or
publishes a recording, and sees the host's Spaces in the Following feed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from airspace.accounts import services as accounts
from airspace.accounts.models import Block, User
from airspace.errors import Forbidden, Invalid
from airspace.sharing.models import Follow


def follow(session: Session, follower: User, username: str, now: datetime) -> User:
    """Follow ``username``; following twice is following once. Returns the host."""
    host = accounts.get_user(session, username)
    if host.id == follower.id:
        raise Invalid("you cannot follow yourself")
    if accounts.is_blocked(session, host.id, follower.id):
        raise Forbidden(f"@{host.username} has blocked you, so you cannot follow them")
    if not is_following(session, follower.id, host.id):
        session.add(Follow(follower_id=follower.id, host_id=host.id, created_at=now))
        session.flush()
    return host


def unfollow(session: Session, follower: User, username: str) -> User:
    host = accounts.get_user(session, username)
    drop(session, follower.id, host.id)
    return host


def drop(session: Session, follower_id: int, host_id: int) -> None:
    """End a follow if there is one (unfollowing, or the host blocking the follower)."""
    session.execute(
        delete(Follow).where(Follow.follower_id == follower_id, Follow.host_id == host_id)
    )


def is_following(session: Session, follower_id: int, host_id: int) -> bool:
    query = select(Follow.id).where(Follow.follower_id == follower_id, Follow.host_id == host_id)
    return session.scalar(query) is not None


def follower_ids(session: Session, host_id: int) -> list[int]:
    """Those who follow ``host_id``, less any the host has blocked since."""
    blocked = select(Block.id).where(
        Block.blocker_id == host_id, Block.blocked_id == Follow.follower_id
    )
    query = select(Follow.follower_id).where(Follow.host_id == host_id, ~blocked.exists())
    return list(session.scalars(query))


def followed_ids(session: Session, follower_id: int) -> list[int]:
    return list(session.scalars(select(Follow.host_id).where(Follow.follower_id == follower_id)))


def follower_count(session: Session, host_id: int) -> int:
    return len(follower_ids(session, host_id))
