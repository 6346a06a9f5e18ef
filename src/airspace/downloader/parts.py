"""The parts cache: each finished segment's AAC frames on disk, so an interrupted
download picks up where it stopped and produces the same file.

Parts are appended to one data file and listed in an append-only index (sequence,
offset, length): a handful of system calls per segment, whatever the file system.
A part is listed only after its bytes are written, so a kill never leaves a listed
part half there; an unlisted tail is simply written again on the next run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from airspace.downloader.hls import Segment


@dataclass(frozen=True)
class Part:
    """Where one segment's frames are: a byte range of a file."""

    file: str
    offset: int
    length: int


def read_parts(parts: Iterable[Part]) -> Iterator[bytes]:
    """The bytes of each part in turn, opening each file once."""
    handles: dict[str, int] = {}
    try:
        for part in parts:
            handle = handles.get(part.file)
            if handle is None:
                handle = handles[part.file] = os.open(part.file, os.O_RDONLY)
            yield os.pread(handle, part.length, part.offset)
    finally:
        for handle in handles.values():
            os.close(handle)


def playlist_identity(segments: Sequence[Segment]) -> str:
    """What makes two runs the same download: segment paths and durations (query strings,
    which often carry expiring signatures, are left out)."""
    digest = hashlib.sha256()
    for segment in segments:
        line = f"{segment.sequence}|{segment.url.split('?', 1)[0]}|{segment.duration}\n"
        digest.update(line.encode())
    return digest.hexdigest()[:24]


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(handle, view) :]


class PartsCache:
    MANIFEST = "manifest.json"
    DATA = "parts.bin"
    INDEX = "index.tsv"

    def __init__(self, directory: Path, identity: str) -> None:
        self.directory = directory
        manifest = directory / self.MANIFEST
        if directory.exists():
            try:
                same = json.loads(manifest.read_text()).get("identity") == identity
            except (OSError, ValueError):
                same = False
            if not same:
                shutil.rmtree(directory)
        directory.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps({"identity": identity}))
        self.data_path = str(directory / self.DATA)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        self._data = os.open(self.data_path, flags, 0o644)
        self._size = os.fstat(self._data).st_size
        self._reader = os.open(self.data_path, os.O_RDONLY)
        index_path = directory / self.INDEX
        self._parts: dict[int, Part] = {}
        if index_path.exists():
            for line in index_path.read_text().splitlines():
                fields = line.split("\t")
                if len(fields) != 3 or not all(f.isdigit() for f in fields):
                    continue  # a line cut short by a kill
                sequence, offset, length = map(int, fields)
                if offset + length <= self._size:
                    self._parts[sequence] = Part(self.data_path, offset, length)
        self._index = os.open(index_path, flags, 0o644)

    def __len__(self) -> int:
        return len(self._parts)

    def has(self, sequence: int) -> bool:
        return sequence in self._parts

    def get(self, sequence: int) -> Part:
        return self._parts[sequence]

    def _append(self, data: bytes) -> Part:
        part = Part(self.data_path, self._size, len(data))
        _write_all(self._data, data)
        self._size += len(data)
        return part

    def write(self, sequence: int, data: bytes) -> Part:
        part = self._append(data)
        _write_all(self._index, f"{sequence}\t{part.offset}\t{part.length}\n".encode())
        self._parts[sequence] = part
        return part

    def write_filler(self, sequence: int, data: bytes) -> Part:
        """Silence standing in for a segment that failed; left out of the index, so a
        later run tries the segment again."""
        return self._append(data)

    def read(self, sequence: int) -> bytes:
        part = self._parts[sequence]
        return os.pread(self._reader, part.length, part.offset)

    def close(self) -> None:
        for handle in (self._data, self._index, self._reader):
            with contextlib.suppress(OSError):
                os.close(handle)

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)
