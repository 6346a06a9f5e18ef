"""Sharing a Space inside the instance: with one's followers (the Following feed) or
with chosen accounts (a notification each), and the links of the share sheet.

An account the host has blocked cannot share, clip or embed the host's Spaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import quote, urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from airspace.accounts import services as accounts
from airspace.accounts.models import User
from airspace.errors import Forbidden, Invalid
from airspace.sharing import notifications
from airspace.sharing.follows import followed_ids
from airspace.sharing.models import NotificationKind, Share
from airspace.spaces.models import Space, SpaceState

MOST_RECIPIENTS = 20
EMBED_WIDTH, EMBED_HEIGHT = 480, 420
"""The embed's size: the player with its controls fits in it whole."""
COMPACT_EMBED_HEIGHT = 180
"""The compact embed: title, Play and the seek bar (the page lays itself out for it)."""


def require_not_blocked(session: Session, space: Space, user: User | None, action: str) -> None:
    """403 when the host of ``space`` has blocked ``user``."""
    if user is not None and accounts.is_blocked(session, space.host_id, user.id):
        raise Forbidden(f"the host has blocked you, so you cannot {action} their Spaces")


def share(
    session: Session,
    space: Space,
    sender: User,
    *,
    comment: str,
    to_followers: bool,
    usernames: list[str],
    at_seconds: float | None,
    now: datetime,
) -> tuple[Share, int]:
    """Share ``space``; returns the share and how many accounts were notified."""
    require_not_blocked(session, space, sender, "share")
    if space.state is SpaceState.CANCELED:
        raise Invalid("a canceled Space cannot be shared")
    if not to_followers and not usernames:
        raise Invalid("share with your followers, with some accounts, or both")
    if len(usernames) > MOST_RECIPIENTS:
        raise Invalid(f"share with at most {MOST_RECIPIENTS} accounts at once")
    recipients = [accounts.get_user(session, name.strip().lstrip("@")) for name in usernames]
    record = Share(
        space_id=space.id,
        sender_id=sender.id,
        comment=comment.strip(),
        to_followers=to_followers,
        at_seconds=at_seconds,
        created_at=now,
    )
    session.add(record)
    session.flush()
    # Someone who blocked the sender is not told; neither is the sender.
    told = [
        r.id
        for r in recipients
        if r.id != sender.id and not accounts.is_blocked(session, r.id, sender.id)
    ]
    said = f": “{record.comment}”" if record.comment else ""
    message = f"{sender.display_name} shared {space.title} with you{said}"
    link = notifications.space_link(space) + (f"?t={int(at_seconds)}" if at_seconds else "")
    return record, notifications.notify(session, told, NotificationKind.SHARED, message, link, now)


@dataclass(frozen=True)
class FeedItem:
    at: datetime
    space: Space
    share: Share | None
    """Set when the item is someone's share rather than a followed host's Space."""


def following_feed(session: Session, user: User, limit: int = 30) -> list[FeedItem]:
    """What the accounts ``user`` follows hosted and shared with their followers, newest
    first."""
    followed = followed_ids(session, user.id)
    if not followed:
        return []
    hosted = session.scalars(
        select(Space)
        .where(Space.host_id.in_(followed), Space.state != SpaceState.CANCELED)
        .order_by(Space.created_at.desc())
        .limit(limit)
    )
    items = [FeedItem(s.started_at or s.created_at, s, None) for s in hosted]
    shared = session.scalars(
        select(Share)
        .join(Space, Space.id == Share.space_id)
        .where(
            Share.sender_id.in_(followed),
            Share.to_followers.is_(True),
            Space.state != SpaceState.CANCELED,
        )
        .order_by(Share.created_at.desc())
        .limit(limit)
    )
    items += [FeedItem(s.created_at, s.space, s) for s in shared]
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


def share_count(session: Session, space_id: str) -> int:
    return session.scalar(select(func.count(Share.id)).where(Share.space_id == space_id)) or 0


@dataclass(frozen=True)
class ShareLinks:
    link: str
    link_at_time: str | None
    embed_code: str
    compact_embed_code: str
    x_intent: str
    email: str


def share_links(space_id: str, title: str, public_url: str, at_seconds: int | None) -> ShareLinks:
    """The share sheet's links for a Space (``at_seconds``: the player's position)."""
    link = f"{public_url}/i/spaces/{space_id}"
    at_time = f"{link}?t={at_seconds}" if at_seconds else None
    shared = at_time or link
    x_intent = "https://x.com/intent/post?" + urlencode({"text": title, "url": shared})
    email = f"mailto:?subject={quote(title)}&body={quote(shared)}"
    embed = embed_code(link, title, EMBED_HEIGHT)
    compact = embed_code(link, title, COMPACT_EMBED_HEIGHT)
    return ShareLinks(link, at_time, embed, compact, x_intent, email)


def embed_code(link: str, title: str, height: int) -> str:
    """The iframe another site pastes to play the Space, ``height`` pixels high."""
    return (
        f'<iframe src="{link}/embed" width="{EMBED_WIDTH}" height="{height}" '
        f'title="{escape(title)}" allow="autoplay" style="border:0"></iframe>'
    )
