"""Storage in a local directory; clients get its files only through granted media URLs
(the fast path, or nginx with the same check)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from airspace.storage.interfaces import ObjectNotFound, validate_key, validate_prefix


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file behind ``key``; the key is validated so the path stays under the root."""
        path = (self.root / validate_key(key)).resolve()
        if not path.is_relative_to(self.root):
            raise ObjectNotFound(key)
        return path

    def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write aside, fsync, then rename: a reader never sees half an object, and a
        # crash never leaves one behind.
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path, content_type: str | None = None) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        os.close(fd)
        try:
            shutil.copyfile(path, tmp_name)
            with open(tmp_name, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def get_range(self, key: str, start: int, end: int | None = None) -> bytes:
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"invalid byte range {start}-{end}")
        try:
            with self.path(key).open("rb") as handle:
                handle.seek(start)
                return handle.read() if end is None else handle.read(end - start + 1)
        except (FileNotFoundError, IsADirectoryError):
            raise ObjectNotFound(key) from None

    def size(self, key: str) -> int:
        path = self.path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path.stat().st_size

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def list(self, prefix: str) -> list[str]:
        validate_prefix(prefix)
        keys = []
        for dirpath, _dirnames, filenames in os.walk(self.root):
            for filename in filenames:
                if filename.startswith(".tmp-"):
                    continue
                key = Path(dirpath, filename).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        keys = self.list(prefix)
        for key in keys:
            self.delete(key)
        if prefix.endswith("/"):
            directory = self.path(prefix.removesuffix("/"))
            if directory.is_dir():
                shutil.rmtree(directory, ignore_errors=True)
        return len(keys)

    def file_path(self, key: str) -> Path:
        return self.path(key)

    def url(self, key: str, expires_in: int = 3600) -> None:
        validate_key(key)
        return None
