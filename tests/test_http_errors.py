from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from airspace.app import create_app
from airspace.db.engine import create_database_engine
from airspace.db.migrate import upgrade
from airspace.wiring import Services, build_services
from tests.chaos.filesystems import fill, tiny_filesystem
from tests.conftest import make_settings, register


def test_oversized_body_is_413(client: TestClient, services: Services) -> None:
    headers = register(client, "ada")
    limit = services.settings.max_body_bytes
    response = client.post(
        "/api/v1/spaces",
        content=b'{"title": "' + b"x" * limit + b'"}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == {"detail": f"request body is larger than {limit} bytes"}


def test_streamed_oversized_body_is_413(client: TestClient, services: Services) -> None:
    headers = register(client, "ada")

    def chunks() -> Iterator[bytes]:
        yield b'{"title": "'
        for _ in range(services.settings.max_body_bytes // 1024 + 2):
            yield b"x" * 1024
        yield b'"}'

    response = client.post(
        "/api/v1/spaces", content=chunks(), headers={**headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_errors_are_json_with_detail(client: TestClient) -> None:
    missing = client.get("/api/v1/nowhere")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not Found"}
    wrong_method = client.put("/api/v1/health")
    assert wrong_method.status_code == 405
    assert "detail" in wrong_method.json()
    broken_json = client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert broken_json.status_code == 422
    assert broken_json.json()["detail"] == "the body is not valid JSON"
    assert broken_json.json()["errors"][0]["type"] == "json_invalid"


def test_inputs_refused_are_named_in_one_sentence_and_listed(client: TestClient) -> None:
    refused = client.post(
        "/api/v1/auth/register",
        json={"username": "a b", "password": "short", "extra": 1},
    )
    assert refused.status_code == 422
    body = refused.json()
    assert body["detail"] == (
        "username: must be 3 to 30 letters, digits or underscores; "
        "password: String should have at least 8 characters; extra: Extra inputs are not permitted"
    )
    assert [problem["loc"] for problem in body["errors"]] == [
        ["body", "username"],
        ["body", "password"],
        ["body", "extra"],
    ]


def test_booleans_and_integers_are_not_coerced(client: TestClient) -> None:
    headers = register(client, "strict")
    for body in ({"title": "T", "record": 1}, {"title": "T", "ticket_capacity": "5"}):
        refused = client.post("/api/v1/spaces", json=body, headers=headers)
        assert refused.status_code == 422, body
    taken = client.post(
        "/api/v1/spaces", json={"title": "T", "ticket_capacity": 5.0}, headers=headers
    )
    assert taken.status_code == 201
    assert taken.json()["ticket_capacity"] == 5


def test_a_405_names_every_method_of_the_path(client: TestClient) -> None:
    # GET and POST on /me/tokens are two routes: Starlette alone names the first one's.
    wrong = client.delete("/api/v1/me/tokens")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "GET, POST"
    assert wrong.json() == {"detail": "Method Not Allowed"}


def test_unexpected_errors_hide_the_trace(services: Services) -> None:
    app = create_app(services)

    @app.get("/api/v1/explode")
    def explode() -> None:
        raise RuntimeError("secret internals at /srv/airspace")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/explode")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error"}
    assert "secret" not in response.text


def test_openapi_is_published(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "Airspace"
    assert "/api/v1/spaces" in spec["paths"]
    assert "/api/v1/spaces/{space_id}/start" in spec["paths"]


@pytest.mark.parametrize(
    "path",
    [
        "/media/spaces/AAAAAAAAAAAAA/live/000000.ts",
        "/media/../secret_key",
        "/m/AAAAAAAAAAAAA/x/../../secret_key",
        "/m/AAAAAAAAAAAAA/%2e%2e/secret_key",
    ],
)
def test_stored_media_has_no_open_door(client: TestClient, services: Services, path: str) -> None:
    services.storage.put("spaces/AAAAAAAAAAAAA/live/000000.ts", b"segment")
    response = client.get(path)
    assert response.status_code in (403, 404)
    assert "detail" in response.json()


def test_pages_carry_security_headers_and_only_the_embed_may_be_framed(
    client: TestClient,
) -> None:
    home = client.get("/")
    policy = home.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert home.headers["x-frame-options"] == "DENY"
    assert home.headers["x-content-type-options"] == "nosniff"
    assert home.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    api = client.get("/api/v1/spaces/AAAAAAAAAAAAA")
    assert api.status_code == 404
    assert api.headers["x-content-type-options"] == "nosniff"
    host = register(client, "host")
    space_id = client.post("/api/v1/spaces", json={"title": "Framed"}, headers=host).json()["id"]
    embed = client.get(f"/i/spaces/{space_id}/embed")
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers


def test_a_database_out_of_reach_is_503_with_a_reason(tmp_path: Path) -> None:
    with closed_port() as port:
        url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/test?connect_timeout=2"
        services = build_services(make_settings(tmp_path, url))
        try:
            client = TestClient(create_app(services))  # no lifespan: it would need the database
            answer = client.get("/api/v1/spaces")
        finally:
            services.close()
    assert answer.status_code == 503
    assert answer.json() == {"detail": "the database is unavailable; try again in a moment"}
    assert int(answer.headers["retry-after"]) > 0


@contextmanager
def closed_port() -> Iterator[int]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        yield probe.getsockname()[1]  # bound, never listening: connections are refused


def test_a_full_disk_is_507_with_a_reason_and_nothing_is_lost(tmp_path: Path) -> None:
    with tiny_filesystem(tmp_path / "small") as data_dir:
        url = f"sqlite:///{data_dir / 'airspace.db'}"
        upgrade(create_database_engine(url))
        services = build_services(make_settings(data_dir, url))
        try:
            client = TestClient(create_app(services))
            register(client, "before")
            filler = fill(data_dir)
            answer = client.post(
                "/api/v1/auth/register",
                json={"username": "after", "password": "a long and unusual passphrase"},
            )
            assert answer.status_code == 507
            assert answer.json() == {"detail": "the server's storage is full; try again later"}
            filler.unlink()  # space again: everything before is there
            assert client.get("/api/v1/users/before").status_code == 200
        finally:
            services.close()
