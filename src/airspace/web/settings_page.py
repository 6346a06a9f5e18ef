"""The settings page: display name, caption opt-out, and the accounts a user blocked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from airspace.accounts import notices
from airspace.accounts import services as accounts
from airspace.accounts.auth import CSRF_FIELD, FormUser, OptionalUser, check_csrf
from airspace.accounts.models import User
from airspace.archive import services as archives
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import AirspaceError
from airspace.web.pages import render, to_login
from airspace.wiring import Services

router = APIRouter(include_in_schema=False)
CsrfField = Annotated[str, Form(alias=CSRF_FIELD)]


def _page(
    request: Request,
    services: Services,
    db: DbDep,
    user: User,
    message: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        services,
        "settings.html",
        user,
        status_code,
        blocked=accounts.blocked_users(db, user),
        archive=archives.latest(db, user),
        public_url=services.settings.public_url,
        mail_on=services.settings.smtp_url is not None,
        message=message,
        error=error,
    )


@router.get("/settings", response_class=HTMLResponse)
def settings_page(
    request: Request, services: ServicesDep, db: DbDep, user: OptionalUser
) -> Response:
    if user is None:
        return to_login("/settings")
    return _page(request, services, db, user)


def _change(
    request: Request,
    services: Services,
    db: DbDep,
    user: User | None,
    csrf_token: str,
    change: Callable[[User], str],
) -> Response:
    """Apply one form's change for the signed-in user; the page again, with what
    happened (``change`` returns the message) or why not."""
    check_csrf(request, services.settings, csrf_token)
    if user is None:
        return to_login("/settings")
    try:
        message = change(user)
    except AirspaceError as exc:
        db.rollback()
        return _page(request, services, db, user, error=exc.detail, status_code=exc.status_code)
    db.commit()
    return _page(request, services, db, user, message=message)


@router.post("/settings", response_class=HTMLResponse)
def save_settings(
    request: Request,
    services: ServicesDep,
    db: DbDep,
    user: FormUser,
    display_name: Annotated[str, Form()] = "",
    captions_opt_out: Annotated[str | None, Form()] = None,
    podcast_feed: Annotated[str | None, Form()] = None,
    email: Annotated[str, Form()] = "",
    bio: Annotated[str, Form()] = "",
    csrf_token: CsrfField = "",
) -> Response:
    def save(me: User) -> str:
        accounts.update_settings(
            me, display_name, captions_opt_out is not None, podcast_feed is not None, email, bio
        )
        return "Settings saved."

    return _change(request, services, db, user, csrf_token, save)


@router.post("/settings/notices/{notice_id}/dismiss", response_class=HTMLResponse)
def dismiss_notice(
    notice_id: int,
    request: Request,
    services: ServicesDep,
    db: DbDep,
    user: FormUser,
    csrf_token: CsrfField = "",
) -> Response:
    def dismiss(me: User) -> str:
        notices.dismiss(db, me, notice_id, services.clock.now())
        return "Notice dismissed."

    return _change(request, services, db, user, csrf_token, dismiss)


@router.post("/settings/blocks", response_class=HTMLResponse)
def block_account(
    request: Request,
    services: ServicesDep,
    db: DbDep,
    user: FormUser,
    username: Annotated[str, Form()] = "",
    csrf_token: CsrfField = "",
) -> Response:
    def block(me: User) -> str:
        blocked = accounts.block(db, me, username.strip().lstrip("@"), services.clock.now())
        return f"@{blocked.username} is blocked."

    return _change(request, services, db, user, csrf_token, block)


@router.post("/settings/blocks/{username}/unblock", response_class=HTMLResponse)
def unblock_account(
    username: str,
    request: Request,
    services: ServicesDep,
    db: DbDep,
    user: FormUser,
    csrf_token: CsrfField = "",
) -> Response:
    def unblock(me: User) -> str:
        accounts.unblock(db, me, username)
        return f"@{username} is no longer blocked."

    return _change(request, services, db, user, csrf_token, unblock)
