"""Guessing passwords is slow: failed log-ins are limited per account and per client
address, registrations per address, on every node alike (``RateLimits``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from airspace.accounts import notices
from airspace.accounts import services as accounts
from airspace.accounts.models import User
from airspace.errors import TooManyRequests, Unauthenticated
from airspace.ratelimit import Limit, RateLimits, take

if TYPE_CHECKING:
    from airspace.wiring import Services

FAILED_LOGINS_PER_ACCOUNT = Limit("login-account", 10, timedelta(minutes=15))
FAILED_LOGINS_PER_ADDRESS = Limit("login-address", 50, timedelta(minutes=15))
REGISTRATIONS_PER_ADDRESS = Limit("registrations", 20, timedelta(hours=1))


def check_login(limits: RateLimits, username: str, client: str, now: datetime) -> None:
    """Refuse (429) a log-in while its account or address has failed too often, even
    with the right password: that is what makes guessing slow."""
    for limit, key, whose in (
        (FAILED_LOGINS_PER_ACCOUNT, username.lower(), "for this account"),
        (FAILED_LOGINS_PER_ADDRESS, client, "from this address"),
    ):
        wait = limits.wait(limit, key, now)
        if wait:
            raise TooManyRequests(
                f"too many failed log-ins {whose}; try again in {wait} s", retry_after=wait
            )


def login_failed(limits: RateLimits, username: str, client: str, now: datetime) -> None:
    limits.record(FAILED_LOGINS_PER_ACCOUNT, username.lower(), now)
    limits.record(FAILED_LOGINS_PER_ADDRESS, client, now)


def login_succeeded(limits: RateLimits, username: str) -> None:
    limits.clear(FAILED_LOGINS_PER_ACCOUNT, username.lower())


def check_registration(limits: RateLimits, client: str, now: datetime) -> None:
    take(limits, REGISTRATIONS_PER_ADDRESS, client, now, "sign-ups from this address")


def client_of(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"


def _tell_owner_of_lockout(db: Session, username: str, client: str, now: datetime) -> None:
    """This failure paused the account's sign-ins (the ones after it are refused before
    they are counted, so this happens once a pause): its owner hears of it."""
    owner = accounts.find_user(db, username)
    if owner is None:
        return
    limit = FAILED_LOGINS_PER_ACCOUNT
    notices.post(db, owner, notices.lockout_message(limit.count, client, limit.window, now), now)
    db.commit()


def throttled_authenticate(
    services: Services, db: Session, username: str, password: str, client: str
) -> User:
    """The user behind ``username`` and ``password``, unless log-ins for that account or
    from ``client`` failed too often lately (429)."""
    now = services.clock.now()
    check_login(services.limits, username, client, now)
    try:
        user = accounts.authenticate(db, username, password)
    except Unauthenticated:
        login_failed(services.limits, username, client, now)
        if services.limits.wait(FAILED_LOGINS_PER_ACCOUNT, username.lower(), now):
            _tell_owner_of_lockout(db, username, client, now)
        raise
    login_succeeded(services.limits, username)
    return user
