"""Who is asking: bearer tokens, signed session cookies, and CSRF protection.

CSRF tokens are double-submit tokens bound to a random, HttpOnly nonce cookie: the
token is an HMAC of the nonce, so a page of another site can neither read nor forge
it. Every form post carries it in a ``csrf_token`` field; every unsafe API request
authenticated by the session cookie carries it in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import HTTPConnection

from airspace.accounts import services as accounts
from airspace.accounts.models import User
from airspace.config import Settings
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import Forbidden, Unauthenticated

SESSION_COOKIE = "airspace_session"
CSRF_COOKIE = "airspace_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt="airspace.session")


def csrf_token_for(settings: Settings, nonce: str) -> str:
    return hmac.new(
        settings.secret_key.encode(), f"csrf:{nonce}".encode(), hashlib.sha256
    ).hexdigest()


def csrf_token_and_new_nonce(request: Request, settings: Settings) -> tuple[str, str | None]:
    """This browser's CSRF token, and the nonce to set when the browser has none yet."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if nonce:
        return csrf_token_for(settings, nonce), None
    nonce = secrets.token_urlsafe(24)
    return csrf_token_for(settings, nonce), nonce


def set_csrf_cookie(response: Response, settings: Settings, nonce: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, nonce, httponly=True, samesite="lax", secure=settings.cookie_secure, path="/"
    )


def rotate_csrf_nonce(response: Response, settings: Settings) -> str:
    """A new CSRF nonce for a browser that has just signed in (a token planted or seen
    before the log-in is worth nothing after it); returns the new token."""
    nonce = secrets.token_urlsafe(24)
    set_csrf_cookie(response, settings, nonce)
    return csrf_token_for(settings, nonce)


def ensure_csrf_nonce(request: Request, response: Response, settings: Settings) -> str:
    """The request's CSRF token, setting the nonce cookie on ``response`` if it is new."""
    token, new_nonce = csrf_token_and_new_nonce(request, settings)
    if new_nonce:
        set_csrf_cookie(response, settings, new_nonce)
    return token


def check_csrf(request: Request, settings: Settings, submitted: str | None) -> None:
    """Raise Forbidden unless ``submitted`` is the token for this browser's nonce."""
    nonce = request.cookies.get(CSRF_COOKIE)
    if (
        not nonce
        or not submitted
        or not hmac.compare_digest(csrf_token_for(settings, nonce), submitted)
    ):
        raise Forbidden("missing or invalid CSRF token; reload the page and try again")


def set_session_cookie(response: Response, settings: Settings, session_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        _serializer(settings).dumps(session_id),
        max_age=int(timedelta(days=settings.session_days).total_seconds()),
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def session_id_from(request: HTTPConnection, settings: Settings) -> str | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        value = _serializer(settings).loads(cookie)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def optional_user(request: Request, services: ServicesDep, db: DbDep) -> User | None:
    """The user behind the bearer token or the session cookie, if any."""
    now = services.clock.now()
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("use 'Authorization: Bearer <API token>'")
        user = accounts.user_for_token(db, secret.strip(), now)
        if user is None:
            raise Unauthenticated("invalid API token")
        db.commit()  # keeps last_used_at
        return user
    session_id = session_id_from(request, services.settings)
    if session_id is None:
        return None
    user = accounts.user_for_session(db, session_id, now)
    if user is not None and request.method not in SAFE_METHODS:
        check_csrf(request, services.settings, request.headers.get(CSRF_HEADER))
    return user


def form_user(request: Request, services: ServicesDep, db: DbDep) -> User | None:
    """The signed-in user of a page's form post, by the session cookie. The form carries
    its CSRF token in a field, which the page checks before acting on this user."""
    session_id = session_id_from(request, services.settings)
    if session_id is None:
        return None
    return accounts.user_for_session(db, session_id, services.clock.now())


def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise Unauthenticated("log in, or send an API token")
    return user


def current_moderator(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_moderator:
        raise Forbidden("moderators only")
    return user


def current_admin(user: Annotated[User, Depends(current_user)]) -> User:
    if user.role != "admin":
        raise Forbidden("administrators only")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
FormUser = Annotated[User | None, Depends(form_user)]
CurrentUser = Annotated[User, Depends(current_user)]
CurrentModerator = Annotated[User, Depends(current_moderator)]
CurrentAdmin = Annotated[User, Depends(current_admin)]
