"""Pages of the social side: a host's profile with its follow button, the Following
feed, and the notifications behind the bell."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from airspace.accounts import avatars
from airspace.accounts import services as accounts
from airspace.accounts.auth import OptionalUser
from airspace.captions.views import OPEN_TO_ALL
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import AirspaceError, NotFound
from airspace.media.cover import cover_art
from airspace.sharing import feed, follows, notifications, shares
from airspace.spaces.models import Space, SpaceState
from airspace.spaces.views import space_out
from airspace.web.error_pages import page_for
from airspace.web.pages import render, to_login

router = APIRouter(include_in_schema=False)

PROFILE_SECTIONS = (
    (SpaceState.LIVE, "Live now"),
    (SpaceState.SCHEDULED, "Upcoming"),
    (SpaceState.ENDED, "Recordings and past Spaces"),
)
PROFILE_SPACES = 60


@router.get("/@{username}", response_class=HTMLResponse)
def profile_page(
    username: str, request: Request, services: ServicesDep, db: DbDep, user: OptionalUser
) -> HTMLResponse:
    try:
        host = accounts.get_user(db, username)
    except AirspaceError as exc:
        return page_for(exc, request, services, user)
    rows = db.scalars(
        select(Space)
        .where(Space.host_id == host.id, Space.state != SpaceState.CANCELED)
        .order_by(Space.created_at.desc())
        .limit(PROFILE_SPACES)
    ).all()
    sections = [
        (heading, [space_out(db, services, s) for s in rows if s.state is state])
        for state, heading in PROFILE_SECTIONS
    ]
    blocked = user is not None and accounts.is_blocked(db, host.id, user.id)
    return render(
        request,
        services,
        "profile.html",
        user,
        host=host,
        sections=sections,
        followers=follows.follower_count(db, host.id),
        you_follow=user is not None and follows.is_following(db, user.id, host.id),
        may_follow=user is not None and user.id != host.id and not blocked,
    )


@router.get("/@{username}/feed.xml")
def podcast_feed(username: str, services: ServicesDep, db: DbDep) -> Response:
    """The host's podcast feed, when the host publishes one."""
    host = accounts.get_user(db, username)
    if not host.podcast_feed:
        raise NotFound(f"@{host.username} does not publish a podcast feed")
    return Response(
        feed.render(services, db, host),
        media_type="application/rss+xml; charset=utf-8",
        headers={"Cache-Control": "public, max-age=60", **OPEN_TO_ALL},
    )


@router.get("/@{username}/cover.png")
def podcast_cover(username: str, db: DbDep) -> Response:
    """The feed's cover art."""
    host = accounts.get_user(db, username)
    art = cover_art(f"{host.display_name} on Airspace", f"@{host.username}")
    return Response(art, media_type="image/png", headers={"Cache-Control": "public, max-age=3600"})


@router.get("/@{username}/avatar")
def avatar(username: str, services: ServicesDep, db: DbDep, v: int = 0) -> Response:
    """Their picture, or their initials drawn. A versioned address (``?v=``, as pages
    and the API give it) never changes, so it is kept for a year."""
    person = accounts.get_user(db, username)
    picture, kind = avatars.picture_of(services.storage, person)
    current = v == person.avatar_version and person.avatar_version > 0
    cache = "public, max-age=31536000, immutable" if current else "public, max-age=300"
    return Response(picture, media_type=kind, headers={"Cache-Control": cache})


@router.get("/following", response_class=HTMLResponse)
def following_page(
    request: Request, services: ServicesDep, db: DbDep, user: OptionalUser
) -> Response:
    if user is None:
        return to_login("/following")
    items = [
        (item, space_out(db, services, item.space)) for item in shares.following_feed(db, user)
    ]
    return render(request, services, "following.html", user, items=items)


@router.get("/notifications", response_class=HTMLResponse)
def notifications_page(
    request: Request, services: ServicesDep, db: DbDep, user: OptionalUser
) -> Response:
    """The newest notifications; opening the page reads those it shows."""
    if user is None:
        return to_login("/notifications")
    items = notifications.recent(db, user)
    unread = {n.id for n in items if n.read_at is None}
    if items:
        notifications.mark_read(db, user, items[0].id, services.clock.now())
        db.commit()
    return render(request, services, "notifications.html", user, items=items, unread=unread)
