"""Account rules: registration, log-in sessions, API tokens, roles, blocks."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from airspace.accounts.models import ApiToken, Block, Role, User, UserSession
from airspace.accounts.passwords import DUMMY_HASH, hash_password, is_common, verify_password
from airspace.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from airspace.ids import new_secret_token, sha256_hex
from airspace.text import printable

USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{3,30}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
MAX_BIO = 160
MAX_DISPLAY_NAME = 50
TOKEN_PREFIX = "as_"  # noqa: S105 - a visible prefix, not a secret


def validate_username(username: str) -> str:
    if not USERNAME_PATTERN.match(username):
        raise Invalid("username must be 3 to 30 letters, digits or underscores")
    return username


def validate_password(password: str, username: str = "") -> str:
    """A password of 8 to 128 characters that is not blank, not the username, and not
    one of the 30,000 most common passwords."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise Invalid(f"password must be {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise Invalid("password must not be only spaces")
    if username and password.lower() == username.lower():
        raise Invalid("password must not be your username")
    if is_common(password):
        raise Invalid("that password is among the most common ones; choose another")
    return password


def update_settings(
    user: User,
    display_name: str | None = None,
    captions_opt_out: bool | None = None,
    podcast_feed: bool | None = None,
    email: str | None = None,
    bio: str | None = None,
) -> None:
    """Change what a user may change about themselves; a blank display name keeps the old."""
    if display_name is not None:
        name = " ".join(printable(display_name, "display name").split())
        if len(name) > MAX_DISPLAY_NAME:
            raise Invalid(f"display name must be at most {MAX_DISPLAY_NAME} characters")
        user.display_name = name or user.display_name
    if captions_opt_out is not None:
        user.captions_opt_out = captions_opt_out
    if podcast_feed is not None:
        user.podcast_feed = podcast_feed
    if email is not None:
        address = email.strip()
        if address and not EMAIL_PATTERN.fullmatch(address):
            raise Invalid("that does not look like an email address")
        user.email = address or None
    if bio is not None:
        about = " ".join(printable(bio, "bio").split())
        if len(about) > MAX_BIO:
            raise Invalid(f"bio must be at most {MAX_BIO} characters")
        user.bio = about


_ADDRESS_CHAR = r"[^@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]"
"""Anything but ``@``, controls and white space, each named: ``\\s`` means other characters
in JavaScript (the API description's dialect), Python and pydantic's Rust engine."""
EMAIL = rf"{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+"
"""An email address as far as a form can tell (the mail server has the last word)."""
EMAIL_PATTERN = re.compile(EMAIL)


def find_user(session: Session, username: str) -> User | None:
    if not USERNAME_PATTERN.match(username):
        return None  # no such name can exist; and NUL bytes never reach the database
    return session.scalar(select(User).where(User.username_key == username.lower()))


def get_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def register(
    session: Session,
    username: str,
    password: str,
    now: datetime,
    *,
    display_name: str | None = None,
    role: Role = Role.USER,
) -> User:
    validate_username(username)
    validate_password(password, username)
    display_name = (display_name or username).strip()
    if not 1 <= len(display_name) <= 50:
        raise Invalid("display name must be 1 to 50 characters")
    if find_user(session, username) is not None:
        raise Conflict(f"the username {username!r} is taken")
    user = User(
        username=username,
        username_key=username.lower(),
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        captions_opt_out=False,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User:
    user = find_user(session, username)
    if user is None:
        verify_password(DUMMY_HASH, password)
        raise Unauthenticated("wrong username or password")
    if not verify_password(user.password_hash, password):
        raise Unauthenticated("wrong username or password")
    if user.suspended_at is not None:
        raise Forbidden(f"this account is suspended: {user.suspension_reason or 'no reason given'}")
    return user


def open_session(session: Session, user: User, now: datetime, lifetime: timedelta) -> str:
    """Start a browser session; returns its id, which the cookie carries signed."""
    session_id = secrets.token_urlsafe(32)
    session.add(
        UserSession(id=session_id, user_id=user.id, created_at=now, expires_at=now + lifetime)
    )
    return session_id


def close_session(session: Session, session_id: str) -> None:
    session.execute(delete(UserSession).where(UserSession.id == session_id))


def user_for_session(session: Session, session_id: str, now: datetime) -> User | None:
    row = session.get(UserSession, session_id)
    if row is None or row.expires_at <= now:
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.suspended_at is None else None


def create_api_token(
    session: Session, user: User, name: str, now: datetime
) -> tuple[ApiToken, str]:
    """Create a token; returns the record and the secret, which is never stored."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise Invalid("token name must be 1 to 100 characters")
    secret = new_secret_token(TOKEN_PREFIX)
    token = ApiToken(user_id=user.id, name=name, token_hash=sha256_hex(secret), created_at=now)
    session.add(token)
    session.flush()
    return token, secret


def user_for_token(session: Session, secret: str, now: datetime) -> User | None:
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == sha256_hex(secret)))
    if token is None:
        return None
    token.last_used_at = now
    user = session.get(User, token.user_id)
    return user if user is not None and user.suspended_at is None else None


def list_api_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id))
    )


def revoke_api_token(session: Session, user: User, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(f"no token {token_id}")
    session.delete(token)


def suspend(session: Session, moderator: User, username: str, reason: str, now: datetime) -> User:
    """Suspend ``username``: it is signed out everywhere (sessions and API tokens
    revoked) and cannot sign in until unsuspended. Moderators suspend users; only
    admins suspend moderators; nobody suspends an admin or themselves."""
    user = get_user(session, username)
    if user.id == moderator.id:
        raise Conflict("you cannot suspend your own account")
    if user.role is Role.ADMIN or (user.is_moderator and moderator.role is not Role.ADMIN):
        raise Forbidden(
            f"{user.username} is a {user.role.value}; an admin must change the role first"
        )
    if user.suspended_at is not None:
        raise Conflict(f"{user.username} is already suspended")
    user.suspended_at = now
    user.suspension_reason = reason
    session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    return user


def unsuspend(session: Session, username: str) -> User:
    user = get_user(session, username)
    if user.suspended_at is None:
        raise Conflict(f"{user.username} is not suspended")
    user.suspended_at = None
    user.suspension_reason = None
    return user


def set_role(session: Session, username: str, role: Role) -> User:
    """Give ``username`` a role; the instance always keeps at least one admin (409)."""
    user = get_user(session, username)
    if user.role is Role.ADMIN and role is not Role.ADMIN:
        admins = session.scalar(select(func.count(User.id)).where(User.role == Role.ADMIN))
        if admins == 1:
            raise Conflict(f"{username} is the last admin; make another admin first")
    user.role = role
    return user


def block(session: Session, blocker: User, username: str, now: datetime) -> User:
    target = get_user(session, username)
    if target.id == blocker.id:
        raise Invalid("you cannot block yourself")
    if not is_blocked(session, blocker.id, target.id):
        session.add(Block(blocker_id=blocker.id, blocked_id=target.id, created_at=now))
    return target


def unblock(session: Session, blocker: User, username: str) -> None:
    target = get_user(session, username)
    session.execute(
        delete(Block).where(Block.blocker_id == blocker.id, Block.blocked_id == target.id)
    )


def blocked_users(session: Session, blocker: User) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Block, Block.blocked_id == User.id)
            .where(Block.blocker_id == blocker.id)
            .order_by(User.username)
        )
    )


def is_blocked(session: Session, blocker_id: int, blocked_id: int) -> bool:
    """Whether ``blocker_id`` has blocked ``blocked_id``."""
    return (
        session.scalar(
            select(Block.id).where(Block.blocker_id == blocker_id, Block.blocked_id == blocked_id)
        )
        is not None
    )
