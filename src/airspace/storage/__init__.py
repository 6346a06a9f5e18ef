"""Media storage: a local directory, or any S3-compatible object store."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from airspace.storage.interfaces import Storage
from airspace.storage.local import LocalStorage


def create_storage(url: str) -> Storage:
    """The storage ``AIRSPACE_STORAGE_URL`` names: ``s3://bucket/prefix?...`` or a
    local directory. Light to import, for media workers that open it for themselves
    (the S3 client loads only when the URL asks for it)."""
    parts = urlsplit(url)
    if parts.scheme == "s3":
        from airspace.storage.s3 import S3Storage

        return S3Storage.from_url(url)
    return LocalStorage(Path(unquote(parts.path)))
