"""Property-based calls to every API operation: none may answer with a server error."""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from airspace.app import create_app
from airspace.wiring import Services
from tests.conftest import register

EXAMPLES_PER_OPERATION = 25


def test_no_operation_answers_500(services: Services) -> None:
    with TestClient(create_app(services)) as client:
        headers = register(client, "fuzzer")
        # Some real objects, so that generated requests also reach existing rows.
        for record in (True, False):
            space = client.post(
                "/api/v1/spaces", json={"title": "Fuzz", "record": record}, headers=headers
            )
            client.post(f"/api/v1/spaces/{space.json()['id']}/start", headers=headers)
        schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", client.app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 20

        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def call(case: schemathesis.Case) -> None:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            call()
