"""Two ``airspace serve`` processes count failed log-ins against the same limits in one
Redis: guesses spread over the nodes behind a balancer are as slow as guesses at one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from airspace.accounts.throttle import FAILED_LOGINS_PER_ACCOUNT
from tests.chaos.rig import PASSWORD, REDIS_SERVER, RedisNodes, redis_nodes, redis_server

pytestmark = pytest.mark.skipif(not REDIS_SERVER.exists(), reason=f"no {REDIS_SERVER}")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[RedisNodes]:
    with (
        redis_server(tmp_path) as redis,
        redis_nodes(tmp_path, redis.url, ("node-a", "node-b"), worker=False) as started,
    ):
        yield started


def log_in(base: str, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/auth/login",
        json={"username": username, "password": password},
        timeout=30,
    )


def test_failed_log_ins_on_two_nodes_count_against_one_limit(rig: RedisNodes) -> None:
    a, b = rig.nodes["node-a"].base, rig.nodes["node-b"].base
    for base, username in ((a, "ada"), (b, "ben")):
        signed_up = httpx.post(
            f"{base}/api/v1/auth/register",
            json={"username": username, "password": PASSWORD},
            timeout=30,
        )
        assert signed_up.status_code == 201, signed_up.text

    on_a = FAILED_LOGINS_PER_ACCOUNT.count // 2
    for attempt in range(FAILED_LOGINS_PER_ACCOUNT.count):
        base = a if attempt < on_a else b
        assert log_in(base, "ada", "wrong password").status_code == 401, attempt

    for base in (a, b):  # each node saw only part of the failures, and both refuse
        refused = log_in(base, "ada", PASSWORD)
        assert refused.status_code == 429, refused.text
        assert "too many failed log-ins for this account" in refused.json()["detail"]
        window = FAILED_LOGINS_PER_ACCOUNT.window.total_seconds()
        assert 0 < int(refused.headers["retry-after"]) <= window + 1
    for base in (a, b):  # the limit is the account's: others sign in as usual
        assert log_in(base, "ben", PASSWORD).status_code == 200
