"""Account API: register, log in and out, settings, API tokens, blocks, roles."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from airspace.accounts import avatars, notices, throttle
from airspace.accounts import services as accounts
from airspace.accounts.auth import (
    CurrentAdmin,
    CurrentUser,
    clear_session_cookie,
    ensure_csrf_nonce,
    rotate_csrf_nonce,
    session_id_from,
    set_session_cookie,
)
from airspace.accounts.models import User
from airspace.accounts.schemas import (
    Credentials,
    MeOut,
    NoticeOut,
    Registration,
    RoleUpdate,
    SessionOut,
    SettingsUpdate,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserOut,
)
from airspace.accounts.throttle import client_of, throttled_authenticate
from airspace.api_contract import errors
from airspace.dependencies import DbDep, ServicesDep
from airspace.inputs import MAX_ROW_ID
from airspace.moderation import audit
from airspace.wiring import Services

router = APIRouter(tags=["accounts"])

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
Username = Annotated[str, Path(min_length=1, max_length=30)]


def _start_session(
    request: Request, response: Response, services: Services, db: DbDep, user: User
) -> SessionOut:
    lifetime = timedelta(days=services.settings.session_days)
    session_id = accounts.open_session(db, user, services.clock.now(), lifetime)
    db.commit()
    set_session_cookie(response, services.settings, session_id)
    csrf = rotate_csrf_nonce(response, services.settings)
    return SessionOut(user=MeOut.model_validate(user), csrf_token=csrf)


@router.post("/auth/register", status_code=status.HTTP_201_CREATED, responses=errors(409, 429))
def register(
    body: Registration, request: Request, response: Response, services: ServicesDep, db: DbDep
) -> SessionOut:
    throttle.check_registration(services.limits, client_of(request), services.clock.now())
    user = accounts.register(
        db, body.username, body.password, services.clock.now(), display_name=body.display_name
    )
    return _start_session(request, response, services, db, user)


@router.post("/auth/login", responses=errors(401, 403, 429))
def login(
    body: Credentials, request: Request, response: Response, services: ServicesDep, db: DbDep
) -> SessionOut:
    user = throttled_authenticate(services, db, body.username, body.password, client_of(request))
    return _start_session(request, response, services, db, user)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, services: ServicesDep, db: DbDep, user: CurrentUser) -> Response:
    session_id = session_id_from(request, services.settings)
    if session_id:
        accounts.close_session(db, session_id)
        db.commit()
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(response)
    return response


@router.get("/auth/session")
def current_session(
    request: Request, response: Response, services: ServicesDep, user: CurrentUser
) -> SessionOut:
    """The signed-in user and the CSRF token that cookie-authenticated writes must send."""
    csrf = ensure_csrf_nonce(request, response, services.settings)
    return SessionOut(user=MeOut.model_validate(user), csrf_token=csrf)


@router.get("/me")
def me(user: CurrentUser) -> MeOut:
    return MeOut.model_validate(user)


@router.patch("/me")
def update_me(body: SettingsUpdate, db: DbDep, user: CurrentUser) -> MeOut:
    accounts.update_settings(
        user, body.display_name, body.captions_opt_out, body.podcast_feed, body.email, body.bio
    )
    db.commit()
    return MeOut.model_validate(user)


PICTURE_BODY = {
    "requestBody": {
        "required": True,
        "description": "A JPEG, PNG, GIF or WebP picture (at most 1 MB here); it is cropped "
        "to a square and made 256 px wide.",
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("image/jpeg", "image/png", "image/gif", "image/webp")
        },
    }
}


@router.put("/me/avatar", openapi_extra=PICTURE_BODY, responses=errors(413, 422))
async def upload_avatar(
    request: Request, services: ServicesDep, db: DbDep, user: CurrentUser
) -> MeOut:
    """Your profile picture, shown on your profile, your cards and in rooms."""
    picture = await request.body()
    await asyncio.to_thread(avatars.set_picture, services.storage, user, picture)
    db.commit()
    return MeOut.model_validate(user)


@router.delete("/me/avatar")
def remove_avatar(services: ServicesDep, db: DbDep, user: CurrentUser) -> MeOut:
    """Back to your initials."""
    avatars.remove_picture(services.storage, user)
    db.commit()
    return MeOut.model_validate(user)


@router.get("/me/tokens")
def list_tokens(db: DbDep, user: CurrentUser) -> list[TokenOut]:
    return [TokenOut.model_validate(t) for t in accounts.list_api_tokens(db, user)]


@router.post("/me/tokens", status_code=status.HTTP_201_CREATED)
def create_token(
    body: TokenCreate, services: ServicesDep, db: DbDep, user: CurrentUser
) -> TokenCreated:
    token, secret = accounts.create_api_token(db, user, body.name, services.clock.now())
    db.commit()
    return TokenCreated(**TokenOut.model_validate(token).model_dump(), token=secret)


@router.delete(
    "/me/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404)
)
def revoke_token(token_id: RowId, db: DbDep, user: CurrentUser) -> None:
    accounts.revoke_api_token(db, user, token_id)
    db.commit()


@router.get("/me/notices")
def list_notices(db: DbDep, user: CurrentUser) -> list[NoticeOut]:
    """What happened to your account that you should know of (sign-ins paused after
    failed attempts), newest first, until you dismiss it."""
    return [NoticeOut.model_validate(n) for n in notices.open_notices(db, user)]


@router.delete(
    "/me/notices/{notice_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404)
)
def dismiss_notice(notice_id: RowId, services: ServicesDep, db: DbDep, user: CurrentUser) -> None:
    notices.dismiss(db, user, notice_id, services.clock.now())
    db.commit()


@router.get("/me/blocks")
def list_blocks(db: DbDep, user: CurrentUser) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in accounts.blocked_users(db, user)]


@router.put("/me/blocks/{username}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404))
def block_user(username: Username, services: ServicesDep, db: DbDep, user: CurrentUser) -> None:
    accounts.block(db, user, username, services.clock.now())
    db.commit()


@router.delete(
    "/me/blocks/{username}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(404)
)
def unblock_user(username: Username, db: DbDep, user: CurrentUser) -> None:
    accounts.unblock(db, user, username)
    db.commit()


@router.get("/users/{username}", responses=errors(404))
def get_user(username: Username, db: DbDep) -> UserOut:
    return UserOut.model_validate(accounts.get_user(db, username))


@router.put("/users/{username}/role", responses=errors(404, 409))
def set_role(
    username: Username, body: RoleUpdate, services: ServicesDep, db: DbDep, admin: CurrentAdmin
) -> UserOut:
    before = accounts.get_user(db, username).role
    user = accounts.set_role(db, username, body.role)
    if before is not user.role:
        audit.record(
            db,
            admin,
            "user.role_changed",
            f"user:{user.username}",
            services.clock.now(),
            before=before.value,
            after=user.role.value,
        )
    db.commit()
    return UserOut.model_validate(user)
