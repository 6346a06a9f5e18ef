"""The storage protocol and the rules every key follows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol, runtime_checkable

from airspace.errors import Invalid

MAX_KEY_LENGTH = 512
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class StorageKeyError(Invalid):
    """A key that could escape its prefix or cannot be stored portably."""


class ObjectNotFound(Exception):
    """No object is stored under the key."""


def validate_key(key: str) -> str:
    """Return ``key`` if it is a safe relative path of simple segments, else raise.

    A key is ``/``-separated segments of letters, digits, ``.``, ``_`` and ``-``,
    each starting with a letter or digit: no absolute paths, no ``..``, no empty
    segments, no backslashes.
    """
    if not key or len(key) > MAX_KEY_LENGTH:
        raise StorageKeyError(f"storage key must be 1 to {MAX_KEY_LENGTH} characters")
    if key.startswith("/"):
        raise StorageKeyError(f"storage key must be relative: {key!r}")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _KEY_SEGMENT.match(segment):
            raise StorageKeyError(f"storage key has an unsafe segment {segment!r}: {key!r}")
    return key


def validate_prefix(prefix: str) -> str:
    """A prefix is a key that may end with ``/``; the empty prefix means everything."""
    if prefix == "":
        return prefix
    validate_key(prefix.removesuffix("/"))
    return prefix


@runtime_checkable
class Storage(Protocol):
    """Blobs of media under validated keys. Methods are blocking; call them off the event loop."""

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        """Store ``data`` under ``key`` durably before returning, replacing any old object."""
        ...

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        """Store the file at ``path`` under ``key`` (streamed, for large media)."""
        ...

    def get(self, key: str) -> bytes:
        """The whole object; raises ObjectNotFound."""
        ...

    def get_range(self, key: str, start: int, end: int | None = None) -> bytes:
        """Bytes ``start`` to ``end`` inclusive (to the end when None); raises ObjectNotFound."""
        ...

    def size(self, key: str) -> int:
        """The object's length in bytes; raises ObjectNotFound."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix``, sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove one object; removing a missing object is not an error."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every object under ``prefix``; returns how many were removed."""
        ...

    def file_path(self, key: str) -> Path | None:
        """The object as a local file the server sends itself (it may not exist), or None
        where clients fetch it from the store with ``url``. Validates the key."""
        ...

    def url(self, key: str, expires_in: int = 3600) -> str | None:
        """A presigned URL a client can fetch the object from for ``expires_in`` seconds
        (objects are never public), or None where the store has no URLs of its own and
        the server sends ``file_path`` itself."""
        ...
