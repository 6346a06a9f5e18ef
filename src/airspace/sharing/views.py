"""Following, notifications (with their live stream) and sharing, over the API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import StreamingResponse

from airspace.accounts import services as accounts
from airspace.accounts.auth import CurrentUser, OptionalUser
from airspace.accounts.models import User
from airspace.api_contract import errors
from airspace.dependencies import DbDep, ServicesDep
from airspace.sharing import follows, notifications, shares
from airspace.sharing.schemas import (
    MarkRead,
    NotificationOut,
    NotificationsOut,
    ProfileOut,
    ShareCreate,
    ShareLinksOut,
    ShareOut,
)
from airspace.spaces import services as spaces
from airspace.wiring import Services

router = APIRouter(tags=["sharing"])
Username = Annotated[str, Path(min_length=1, max_length=30)]

HEARTBEAT_SECONDS = 15.0
"""How often the stream says something when nothing happens (keeps proxies from closing
it); the unread count is read again each time, so a missed ring costs at most this."""


def profile_out(db: DbDep, host: User, viewer: User | None) -> ProfileOut:
    return ProfileOut(
        username=host.username,
        display_name=host.display_name,
        followers=follows.follower_count(db, host.id),
        you_follow=viewer is not None and follows.is_following(db, viewer.id, host.id),
    )


@router.get("/users/{username}/profile", responses=errors(404))
def get_profile(username: Username, db: DbDep, user: OptionalUser) -> ProfileOut:
    return profile_out(db, accounts.get_user(db, username), user)


@router.put("/users/{username}/follow", responses=errors(403, 404))
def follow(username: Username, services: ServicesDep, db: DbDep, user: CurrentUser) -> ProfileOut:
    host = follows.follow(db, user, username, services.clock.now())
    db.commit()
    return profile_out(db, host, user)


@router.delete("/users/{username}/follow", responses=errors(404))
def unfollow(username: Username, db: DbDep, user: CurrentUser) -> ProfileOut:
    host = follows.unfollow(db, user, username)
    db.commit()
    return profile_out(db, host, user)


@router.get("/me/notifications")
def list_notifications(
    db: DbDep, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> NotificationsOut:
    items = notifications.recent(db, user, limit)
    return NotificationsOut(
        unread=notifications.unread_count(db, user.id),
        items=[NotificationOut.model_validate(n) for n in items],
    )


@router.post("/me/notifications/read", status_code=status.HTTP_204_NO_CONTENT)
def mark_read(body: MarkRead, services: ServicesDep, db: DbDep, user: CurrentUser) -> None:
    notifications.mark_read(db, user, body.up_to, services.clock.now())
    db.commit()


@router.get(
    "/me/notifications/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
def notification_stream(
    request: Request, services: ServicesDep, user: CurrentUser
) -> StreamingResponse:
    """Server-sent events: an ``unread`` event with the count now, and again whenever a
    notification arrives or is read (on any node)."""
    return StreamingResponse(
        _unread_events(request, services, user.id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _unread_events(request: Request, services: Services, user_id: int) -> AsyncIterator[str]:
    def count() -> int:
        with services.sessions() as session:
            return notifications.unread_count(session, user_id)

    async with services.doorbell.listen(user_id) as ringing:
        last = -1
        while not await request.is_disconnected():
            unread = await asyncio.to_thread(count)
            if unread != last:
                yield f"event: unread\ndata: {json.dumps({'unread': unread})}\n\n"
                last = unread
            else:
                yield ": still here\n\n"
            await ringing.wait(HEARTBEAT_SECONDS)


@router.post(
    "/spaces/{space_id}/shares",
    status_code=status.HTTP_201_CREATED,
    responses=errors(403, 404),
)
def share_space(
    space_id: str, body: ShareCreate, services: ServicesDep, db: DbDep, user: CurrentUser
) -> ShareOut:
    space = spaces.get(db, space_id)
    record, notified = shares.share(
        db,
        space,
        user,
        comment=body.comment,
        to_followers=body.followers,
        usernames=body.to,
        at_seconds=body.at,
        now=services.clock.now(),
    )
    db.commit()
    return ShareOut(
        id=record.id,
        space_id=space.id,
        comment=record.comment,
        followers=record.to_followers,
        notified=notified,
        created_at=record.created_at,
    )


@router.get("/spaces/{space_id}/share-links", responses=errors(403, 404))
def share_links(
    space_id: str,
    services: ServicesDep,
    db: DbDep,
    user: OptionalUser,
    t: Annotated[int, Query(ge=0, le=86_400)] | None = None,
) -> ShareLinksOut:
    """What the share sheet offers: links, embed code, X intent and email; refused to an
    account the host has blocked."""
    space = spaces.get(db, space_id)
    shares.require_not_blocked(db, space, user, "share or embed")
    links = shares.share_links(space.id, space.title, services.settings.public_url, t)
    return ShareLinksOut(**asdict(links), shares=shares.share_count(db, space.id))
