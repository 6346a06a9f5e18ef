from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from airspace.errors import ConfigError
from airspace.storage.interfaces import ObjectNotFound, Storage, StorageKeyError, validate_key
from airspace.storage.local import LocalStorage
from airspace.storage.s3 import S3Storage
from airspace.wiring import create_storage


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible HTTP server on loopback."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(params=["local", "s3"])
def storage(
    request: pytest.FixtureRequest, tmp_path: Path, aws_credentials: None
) -> Iterator[Storage]:
    if request.param == "local":
        yield create_storage(f"file://{tmp_path / 'media'}")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"airspace-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    yield create_storage(f"s3://{bucket}/media?endpoint_url={endpoint}&region=us-east-1")


def test_write_and_read(storage: Storage) -> None:
    storage.put("spaces/abc/seg-0.ts", b"0123456789", content_type="video/mp2t")
    assert storage.get("spaces/abc/seg-0.ts") == b"0123456789"
    assert storage.size("spaces/abc/seg-0.ts") == 10
    assert storage.exists("spaces/abc/seg-0.ts")
    storage.put("spaces/abc/seg-0.ts", b"replaced")
    assert storage.get("spaces/abc/seg-0.ts") == b"replaced"


def test_byte_ranges(storage: Storage) -> None:
    storage.put("a/blob", bytes(range(100)))
    assert storage.get_range("a/blob", 10, 19) == bytes(range(10, 20))
    assert storage.get_range("a/blob", 95) == bytes(range(95, 100))
    assert storage.get_range("a/blob", 0, 0) == b"\x00"


def test_missing_objects(storage: Storage) -> None:
    assert not storage.exists("nothing/here")
    with pytest.raises(ObjectNotFound):
        storage.get("nothing/here")
    with pytest.raises(ObjectNotFound):
        storage.get_range("nothing/here", 0, 1)
    with pytest.raises(ObjectNotFound):
        storage.size("nothing/here")
    storage.delete("nothing/here")  # not an error


def test_list_and_delete_by_prefix(storage: Storage) -> None:
    for key in ("spaces/a/1.ts", "spaces/a/2.ts", "spaces/ab/1.ts", "spaces/b/1.ts"):
        storage.put(key, b"x")
    assert storage.list("spaces/a/") == ["spaces/a/1.ts", "spaces/a/2.ts"]
    assert storage.list("spaces/a") == ["spaces/a/1.ts", "spaces/a/2.ts", "spaces/ab/1.ts"]
    assert storage.delete_prefix("spaces/a/") == 2
    assert storage.list("spaces/") == ["spaces/ab/1.ts", "spaces/b/1.ts"]
    storage.delete("spaces/b/1.ts")
    assert storage.list("") == ["spaces/ab/1.ts"]


def test_objects_reach_clients_only_through_the_server_or_a_presigned_url(
    storage: Storage,
) -> None:
    storage.put("spaces/abc/seg-0.ts", b"segment bytes")
    path = storage.file_path("spaces/abc/seg-0.ts")
    url = storage.url("spaces/abc/seg-0.ts", expires_in=60)
    if isinstance(storage, LocalStorage):
        assert url is None  # no public address: the server sends the file itself
        assert path is not None
        assert path.read_bytes() == b"segment bytes"
        return
    assert path is None
    assert url is not None
    with urllib.request.urlopen(url) as response:  # noqa: S310 - loopback test server
        assert response.read() == b"segment bytes"
    # The bucket is private: the same object without a signature is refused.
    unsigned = url.split("?", 1)[0]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(unsigned)  # noqa: S310 - loopback test server
    assert refused.value.code == 403


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../secret",
        "a/../../b",
        "a//b",
        "a/./b",
        "a\\b",
        "a/.hidden",
        "a/b/",
        "x" * 600,
    ],
)
def test_unsafe_keys_are_refused(storage: Storage, key: str) -> None:
    with pytest.raises(StorageKeyError):
        storage.put(key, b"x")
    with pytest.raises(StorageKeyError):
        storage.get(key)


def test_validate_key_accepts_plain_keys() -> None:
    assert validate_key("spaces/AbC123/segment-00001.ts") == "spaces/AbC123/segment-00001.ts"


def test_local_writes_leave_no_partial_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("k/v", b"data")
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["v"]


def test_s3_url_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="AIRSPACE_STORAGE_URL"):
        S3Storage.from_url("s3://")
    with pytest.raises(ConfigError, match="unknown option"):
        S3Storage.from_url("s3://bucket?endpoit_url=http://x")


def test_s3_public_url_for_a_cdn(aws_credentials: None) -> None:
    storage = S3Storage.from_url("s3://bucket/p?public_url=https://cdn.example.org")
    assert storage.url("spaces/a/b.ts") == "https://cdn.example.org/p/spaces/a/b.ts"
