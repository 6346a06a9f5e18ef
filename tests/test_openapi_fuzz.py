"""Property-based calls to every API operation, checked by all of schemathesis's checks:
no server error, only documented statuses, bodies and headers as described, inputs the
schema refuses are refused and inputs it allows are taken, a right ``Allow`` on 405."""

from __future__ import annotations

from collections import defaultdict

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks

# Imported now, while no other thread runs: schemathesis loads this module on first use,
# and Python 3.11 before 3.11.8 can fail to parse a module ("AST constructor recursion
# depth mismatch") while another thread builds an AST at the same time (CPython #106905).
from schemathesis.specs.openapi import schemas as _openapi_schemas  # noqa: F401

from airspace.app import create_app
from airspace.wiring import Services
from tests.conftest import register

EXAMPLES_PER_OPERATION = 25
UNSTATED_RULES = {
    "POST /api/v1/auth/register": (
        "password must not be your username",
        "that password is among the most common ones",
        "password must not be only spaces",  # Unicode's spaces and Python's differ a little
    ),
    "POST /api/v1/spaces": ("scheduled_start must be",),
    "PATCH /api/v1/spaces/{space_id}": ("scheduled_start must be",),
    "GET /api/v1/spaces": ("invalid cursor",),
    "POST /api/v1/downloads": (
        "links to internal addresses are not fetched",
        "the address in brackets is not IPv6",
    ),
    "POST /api/v1/downloads/ahead": ("only Spaces of this instance can be asked for ahead",),
    "PUT /api/v1/me/blocks/{username}": ("you cannot block yourself",),
    "PATCH /api/v1/spaces/{space_id}/recording": ("start_offset_seconds must be",),
    "PUT /api/v1/users/{username}/follow": ("you cannot follow yourself",),
    "PUT /api/v1/me/avatar": (  # any bytes are a "binary" string; few are a picture
        "not a picture Airspace can read",
        "use a JPEG, PNG, GIF or WebP picture",
    ),
    "POST /api/v1/spaces/{space_id}/shares": (
        "share with your followers, with some accounts, or both",
    ),
}
"""Rules JSON Schema cannot state, or not in a form a person could read (they depend on the
clock, on another field, on the caller, on a list of passwords, on an earlier answer, on
what an address is), which the operations' descriptions say in words:
a schema-valid input refused by one of them is not a finding."""


ENDLESS = {"GET /api/v1/me/notifications/stream"}
"""Streams that answer for as long as the client listens: their own tests read them."""


@pytest.mark.slow
def test_every_operation_keeps_to_its_description(services: Services) -> None:
    load_all_checks()
    checks = CHECKS.get_all()
    findings: dict[str, dict[str, str]] = defaultdict(dict)
    with TestClient(create_app(services)) as client:
        headers = register(client, "fuzzer")
        # Some real objects, so that generated requests also reach existing rows.
        for record in (True, False):
            space = client.post(
                "/api/v1/spaces", json={"title": "Fuzz", "record": record}, headers=headers
            )
            client.post(f"/api/v1/spaces/{space.json()['id']}/start", headers=headers)
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
        operations = [
            operation
            for operation in (result.ok() for result in schema.get_all_operations())
            if operation.label not in ENDLESS
        ]
        assert len(operations) >= 50

        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def call(case: schemathesis.Case) -> None:
                label = case.operation.label
                response = case.call(headers=headers)
                if response.status_code == 422 and any(
                    rule in response.json().get("detail", "")
                    for rule in UNSTATED_RULES.get(label, ())
                ):
                    return
                try:
                    case.validate_response(
                        response, checks=checks, headers=headers, transport_kwargs={}
                    )
                except BaseException as failed:  # a FailureGroup: each is a finding
                    for failure in getattr(failed, "exceptions", [failed]):
                        title = str(failure).strip().split("\n")[0]
                        finding = f"{title}, answered {response.status_code}"
                        findings[label].setdefault(finding, response.text[:200])

            call()
    assert not findings, "\n".join(
        f"{label}: {finding}: {example}"
        for label, found in findings.items()
        for finding, example in sorted(found.items())
    )
