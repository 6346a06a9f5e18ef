"""Media delivery runs on both storages: a directory, and a private bucket on a real
S3-compatible server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from airspace.config import Settings
from tests.conftest import make_settings
from tests.e2e.processes import free_port


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def settings(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Settings:
    if request.param == "local":
        return make_settings(tmp_path, database_url)
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"media-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    storage_url = f"s3://{bucket}/media?endpoint_url={endpoint}&region=us-east-1"
    return make_settings(tmp_path, database_url, storage_url=storage_url)
