"""Pages: home, sign up, log in, log out, the Space page with its player, and the embed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session

from airspace.accounts import notices, throttle
from airspace.accounts import services as accounts
from airspace.accounts.auth import (
    CSRF_FIELD,
    OptionalUser,
    check_csrf,
    clear_session_cookie,
    csrf_token_and_new_nonce,
    rotate_csrf_nonce,
    session_id_from,
    set_csrf_cookie,
    set_session_cookie,
)
from airspace.accounts.listeners import listener_of, remember_listener
from airspace.accounts.models import User
from airspace.accounts.throttle import client_of, throttled_authenticate
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import AirspaceError, Conflict
from airspace.recordings.models import PLAYABLE
from airspace.sharing import follows, notifications, shares
from airspace.spaces import calendar
from airspace.spaces import services as spaces
from airspace.spaces.models import SpaceState
from airspace.spaces.phase import page_view
from airspace.spaces.views import space_out
from airspace.web.error_pages import as_sentence, page_for
from airspace.web.formatting import clock, duration
from airspace.wiring import Services

WEB_DIR = Path(__file__).parent
STATIC_DIR = WEB_DIR / "static"
templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.filters["clock"] = clock
templates.env.filters["duration"] = duration
templates.env.filters["sentence"] = as_sentence
router = APIRouter(include_in_schema=False)

FormField = Annotated[str, Form()]
WELCOME = (
    "Welcome to Airspace, {name}! Listen to a live Space or a replay below, or start your "
    "own with Create a Space. Your name and picture are in Settings."
)
LISTING_HEADINGS = (("live", "Live now"), ("upcoming", "Upcoming"), ("recorded", "Recordings"))


def render(
    request: Request,
    services: Services,
    template: str,
    user: User | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    csrf_token, new_nonce = csrf_token_and_new_nonce(request, services.settings)
    account_notices, unread = [], 0
    if user is not None:
        with services.sessions() as session:
            account_notices = notices.open_notices(session, user)
            unread = notifications.unread_count(session, user.id)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "csrf_token": csrf_token,
            "notices": account_notices,
            "unread_notifications": unread,
            **context,
        },
        status_code=status_code,
    )
    if new_nonce:
        set_csrf_cookie(response, services.settings, new_nonce)
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, services: ServicesDep, db: DbDep, user: OptionalUser) -> HTMLResponse:
    sections = []
    for listing, heading in LISTING_HEADINGS:
        rows, _ = spaces.list_spaces(db, listing, 12, None)
        sections.append((heading, [space_out(db, services, s) for s in rows]))
    return render(request, services, "home.html", user, sections=sections)


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, services: ServicesDep, user: OptionalUser) -> HTMLResponse:
    return render(request, services, "signup.html", user, error=None)


@router.post("/signup", response_class=HTMLResponse)
def signup(
    request: Request,
    services: ServicesDep,
    db: DbDep,
    username: FormField,
    password: FormField,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, services.settings, csrf_token)
    try:
        throttle.check_registration(services.limits, client_of(request), services.clock.now())
        user = accounts.register(db, username.strip(), password, services.clock.now())
    except AirspaceError as exc:
        return render(request, services, "signup.html", None, exc.status_code, error=exc.detail)
    notices.post(db, user, WELCOME.format(name=user.display_name), services.clock.now())
    return _logged_in(services, db, user)


def to_login(next_path: str) -> RedirectResponse:
    """Send someone who is not signed in to the login page, and back here after."""
    return RedirectResponse(f"/login?next={next_path}", status_code=303)


def _local_path(next_path: str) -> str:
    """Where to go after logging in: a path on this site, never another site."""
    ok = next_path.startswith("/") and not next_path.startswith(("//", "/\\"))
    return next_path if ok else "/"


@router.get("/login", response_class=HTMLResponse)
def login_form(
    request: Request, services: ServicesDep, user: OptionalUser, next: str = "/"
) -> HTMLResponse:
    return render(request, services, "login.html", user, error=None, next_path=_local_path(next))


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    services: ServicesDep,
    db: DbDep,
    username: FormField,
    password: FormField,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
    next_path: Annotated[str, Form(alias="next")] = "/",
) -> Response:
    check_csrf(request, services.settings, csrf_token)
    next_path = _local_path(next_path)
    try:
        user = throttled_authenticate(services, db, username.strip(), password, client_of(request))
    except AirspaceError as exc:
        return render(
            request,
            services,
            "login.html",
            None,
            exc.status_code,
            error=exc.detail,
            next_path=next_path,
        )
    return _logged_in(services, db, user, next_path)


def _logged_in(services: Services, db: DbDep, user: User, next_path: str = "/") -> Response:
    lifetime = timedelta(days=services.settings.session_days)
    session_id = accounts.open_session(db, user, services.clock.now(), lifetime)
    db.commit()
    response = RedirectResponse(next_path, status_code=303)
    set_session_cookie(response, services.settings, session_id)
    rotate_csrf_nonce(response, services.settings)
    return response


@router.post("/logout")
def logout(
    request: Request,
    services: ServicesDep,
    db: DbDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, services.settings, csrf_token)
    session_id = session_id_from(request, services.settings)
    if session_id:
        accounts.close_session(db, session_id)
        db.commit()
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response)
    return response


@router.get("/i/spaces/{space_id}", response_class=HTMLResponse)
def space_page(
    space_id: str, request: Request, services: ServicesDep, db: DbDep, user: OptionalUser
) -> HTMLResponse:
    return _space_page("space.html", space_id, request, services, db, user)


@router.get("/i/spaces/{space_id}/reminder.ics")
def reminder(space_id: str, services: ServicesDep, db: DbDep) -> Response:
    """A calendar event for a scheduled Space, with an alarm ten minutes before."""
    space = spaces.get(db, space_id)
    if space.state is not SpaceState.SCHEDULED or space.scheduled_start is None:
        raise Conflict("only a scheduled Space has a start time to be reminded of")
    url = f"{services.settings.public_url}/i/spaces/{space.id}"
    domain = urlsplit(services.settings.public_url).hostname or "airspace"
    body = calendar.reminder(space, url, space.host.display_name, domain, services.clock.now())
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="space-{space.id}.ics"'},
    )


@router.get("/i/spaces/{space_id}/embed", response_class=HTMLResponse)
def embed_page(
    space_id: str, request: Request, services: ServicesDep, db: DbDep, user: OptionalUser
) -> HTMLResponse:
    """The player alone, for an iframe on another site."""
    return _space_page("embed.html", space_id, request, services, db, user, embedded=True)


def _space_page(
    template: str,
    space_id: str,
    request: Request,
    services: Services,
    db: Session,
    user: User | None,
    embedded: bool = False,
) -> HTMLResponse:
    try:
        space = space_out(db, services, spaces.get(db, space_id))
    except AirspaceError as exc:
        return page_for(exc, request, services, user)
    recording_state = space.recording.state if space.recording is not None else None
    playable = recording_state in PLAYABLE
    host = accounts.get_user(db, space.host.username)
    blocked = user is not None and accounts.is_blocked(db, host.id, user.id)
    response = render(
        request,
        services,
        template,
        user,
        space=space,
        playable=playable,
        view=page_view(space.state, recording_state),
        blocked=blocked,
        embedded=embedded,
        public_url=services.settings.public_url,
        host=host,
        followers=follows.follower_count(db, host.id),
        you_follow=user is not None and follows.is_following(db, user.id, host.id),
        may_follow=user is not None and user.id != host.id and not blocked,
        may_share=not blocked,
        may_download=(
            playable
            and space.recording is not None
            and (
                space.recording.downloads_allowed
                or (user is not None and (user.id == host.id or user.is_moderator))
            )
        ),
        may_clip=(
            playable
            and user is not None
            and not blocked
            and space.recording is not None
            and (space.recording.clips_allowed or user.id == host.id)
        ),
        links=shares.share_links(space.id, space.title, services.settings.public_url, None),
    )
    # The listener session, before the page joins the room or fetches a playlist: one
    # person is then counted once, as a member or as a listener.
    # Set or renewed on every visit, so it cannot run out during a Space.
    remember_listener(response, listener_of(request)[0])
    return response
