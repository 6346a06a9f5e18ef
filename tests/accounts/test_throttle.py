"""Guessing passwords is slow: failed log-ins are limited per account and per address
(even the right password waits), sign-ups per address; the limits hold on both
implementations (this process, and Redis shared by every node)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from airspace.accounts.throttle import FAILED_LOGINS_PER_ACCOUNT, REGISTRATIONS_PER_ADDRESS
from airspace.clock import SettableClock
from airspace.ratelimit import Limit, LocalRateLimits, RateLimits, RedisRateLimits
from tests.conftest import REDIS_URL, register


def log_in(client: TestClient, username: str, password: str) -> int:
    reply = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return reply.status_code


def test_an_account_that_failed_too_often_waits_even_with_the_right_password(
    client: TestClient, clock: SettableClock
) -> None:
    register(client, "ada")
    for _ in range(FAILED_LOGINS_PER_ACCOUNT.count):
        assert log_in(client, "ada", "wrong password") == 401
    locked = client.post("/api/v1/auth/login", json={"username": "ADA", "password": "x" * 8})
    assert locked.status_code == 429
    assert "too many failed log-ins for this account" in locked.json()["detail"]
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60 + 1
    assert log_in(client, "ada", "correct horse") == 429
    form = client.post("/login", data={"username": "ada", "password": "correct horse"})
    assert form.status_code in (403, 429)  # no CSRF token here: refused either way
    clock.advance(FAILED_LOGINS_PER_ACCOUNT.window)
    assert log_in(client, "ada", "correct horse") == 200
    # A success starts the count again.
    assert log_in(client, "ada", "wrong password") == 401
    assert log_in(client, "ada", "correct horse") == 200


def test_sign_ups_from_one_address_are_limited(client: TestClient) -> None:
    for n in range(REGISTRATIONS_PER_ADDRESS.count):
        register(client, f"user{n}")
    refused = client.post(
        "/api/v1/auth/register", json={"username": "one_more", "password": "correct horse"}
    )
    assert refused.status_code == 429
    assert "sign-ups from this address" in refused.json()["detail"]
    assert "retry-after" in refused.headers


@pytest.fixture(params=["local", "redis"])
def limits(request: pytest.FixtureRequest) -> Iterator[RateLimits]:
    if request.param == "local":
        yield LocalRateLimits()
        return
    shared = RedisRateLimits(REDIS_URL)
    yield shared
    shared.client.close()


def test_a_sliding_window_counts_events_and_says_how_long_to_wait(limits: RateLimits) -> None:
    limit = Limit(f"tests-{uuid.uuid4().hex}", 3, timedelta(minutes=1))
    start = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    for second in (0, 10, 20):
        assert limits.wait(limit, "k", start + timedelta(seconds=second)) == 0
        limits.record(limit, "k", start + timedelta(seconds=second))
    assert limits.wait(limit, "k", start + timedelta(seconds=30)) == 31
    assert limits.wait(limit, "other", start + timedelta(seconds=30)) == 0
    assert limits.wait(limit, "k", start + timedelta(seconds=60)) == 0  # the first left
    limits.clear(limit, "k")
    assert limits.wait(limit, "k", start + timedelta(seconds=30)) == 0
