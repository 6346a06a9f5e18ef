"""Storage in any S3-compatible object store (AWS S3, MinIO, Ceph, R2...)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from airspace.errors import ConfigError
from airspace.storage.interfaces import ObjectNotFound, validate_key, validate_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3Storage:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        public_base_url: str | None = None,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = validate_prefix(prefix.strip("/") + "/") if prefix.strip("/") else ""
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.client: S3Client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
        )

    @classmethod
    def from_url(cls, url: str) -> S3Storage:
        """``s3://bucket[/prefix]?endpoint_url=...&region=...&public_url=...``."""
        parts = urlsplit(url)
        if not parts.netloc:
            raise ConfigError(f"AIRSPACE_STORAGE_URL: no bucket in {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint_url", "region", "public_url"}
        if unknown:
            raise ConfigError(
                f"AIRSPACE_STORAGE_URL: unknown option(s) {', '.join(sorted(unknown))}"
            )
        return cls(
            parts.netloc,
            prefix=parts.path,
            endpoint_url=query.get("endpoint_url"),
            region=query.get("region"),
            public_base_url=query.get("public_url"),
        )

    def _object(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        if content_type:
            self.client.put_object(
                Bucket=self.bucket, Key=self._object(key), Body=data, ContentType=content_type
            )
        else:
            self.client.put_object(Bucket=self.bucket, Key=self._object(key), Body=data)

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        extra = {"ContentType": content_type} if content_type else None
        self.client.upload_file(str(path), self.bucket, self._object(key), ExtraArgs=extra)

    def get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            raise _translate(exc, key) from None
        return response["Body"].read()

    def get_range(self, key: str, start: int, end: int | None = None) -> bytes:
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"invalid byte range {start}-{end}")
        byte_range = f"bytes={start}-" if end is None else f"bytes={start}-{end}"
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._object(key), Range=byte_range
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                return b""
            raise _translate(exc, key) from None
        return response["Body"].read()

    def size(self, key: str) -> int:
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=self._object(key))
        except ClientError as exc:
            raise _translate(exc, key) from None
        return response["ContentLength"]

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectNotFound:
            return False
        return True

    def list(self, prefix: str) -> list[str]:
        validate_prefix(prefix)
        keys: list[str] = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
            keys.extend(item["Key"][len(self.prefix) :] for item in page.get("Contents", []))
        return sorted(keys)

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._object(key))

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list(prefix)
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": self.prefix + k} for k in batch], "Quiet": True},
            )
        return len(keys)

    def file_path(self, key: str) -> None:
        validate_key(key)
        return None

    def url(self, key: str, expires_in: int = 3600) -> str:
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(self._object(key))}"
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._object(key)},
            ExpiresIn=expires_in,
        )


def _translate(exc: ClientError, key: str) -> Exception:
    if exc.response.get("Error", {}).get("Code") in _MISSING:
        return ObjectNotFound(key)
    return exc
