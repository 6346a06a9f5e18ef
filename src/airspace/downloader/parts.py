"""The parts cache: each finished segment's AAC frames on disk, so an interrupted
download picks up where it stopped and produces the same file.

Parts are appended to a data file and listed in an append-only index (sequence,
offset, length): a handful of system calls per segment, whatever the file system.
A part is listed only after its bytes are written, so a kill never leaves a listed
part half there; an unlisted tail is simply written again on the next run.

Each process that fetches writes a stream of its own (``parts.bin`` and ``index.tsv``
for the first, ``parts.1.bin`` and ``index.1.tsv`` for the next...); opening the cache
reads every stream's index.
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

    def __init__(self, directory: Path, identity: str, stream: int = 0) -> None:
        """Open (or start) the cache of one download; ``stream`` names the data file
        this process appends to. A cache of another download is cleared first."""
        self.directory = directory
        self.identity = identity
        manifest = directory / self.MANIFEST
        if directory.exists():
            try:
                same = json.loads(manifest.read_text()).get("identity") == identity
            except (OSError, ValueError):
                same = False
            if not same:
                shutil.rmtree(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if not manifest.exists():
            manifest.write_text(json.dumps({"identity": identity}))
        suffix = f".{stream}" if stream else ""
        self.data_path = str(directory / f"parts{suffix}.bin")
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        self._data = os.open(self.data_path, flags, 0o644)
        self._size = os.fstat(self._data).st_size
        self._readers: dict[str, int] = {}
        self._parts: dict[int, Part] = {}
        own_index = directory / f"index{suffix}.tsv"
        for index_path in sorted(directory.glob("index*.tsv")):
            data_path = directory / f"parts{index_path.name[len('index') : -len('.tsv')]}.bin"
            listed = self._load(index_path, str(data_path))
            if index_path == own_index:
                # Appending goes on from the parts that are whole: a line cut short by a
                # kill, or one naming bytes the data file lost, must not be completed by
                # what this run writes next.
                own_index.write_text(
                    "".join(f"{seq}\t{part.offset}\t{part.length}\n" for seq, part in listed)
                )
        self._index = os.open(own_index, flags, 0o644)

    def _load(self, index_path: Path, data_path: str) -> list[tuple[int, Part]]:
        """The parts an index lists whose bytes are all in the data file."""
        try:
            size = os.stat(data_path).st_size
        except FileNotFoundError:
            return []
        listed = []
        for line in index_path.read_text().split("\n")[:-1]:  # whole lines only
            fields = line.split("\t")
            if len(fields) != 3 or not all(f.isdigit() for f in fields):
                continue
            sequence, offset, length = map(int, fields)
            if offset + length <= size:
                part = Part(data_path, offset, length)
                self._parts[sequence] = part
                listed.append((sequence, part))
        return listed

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
        self.list([(sequence, part)])
        return part

    def write_unlisted(self, data: bytes) -> Part:
        """Append a part's bytes; it counts once ``list`` names it."""
        return self._append(data)

    def list(self, parts: Sequence[tuple[int, Part]]) -> None:
        """Name parts whose bytes are written, in one write to the index."""
        lines = "".join(f"{sequence}\t{part.offset}\t{part.length}\n" for sequence, part in parts)
        _write_all(self._index, lines.encode())
        for sequence, part in parts:
            self._parts[sequence] = part

    def write_filler(self, sequence: int, data: bytes) -> Part:
        """Silence standing in for a segment that failed; left out of the index, so a
        later run tries the segment again."""
        return self._append(data)

    def adopt(self, sequence: int, part: Part) -> None:
        """A part another process of the same download wrote (and listed)."""
        self._parts[sequence] = part

    def read(self, sequence: int) -> bytes:
        part = self._parts[sequence]
        reader = self._readers.get(part.file)
        if reader is None:
            reader = self._readers[part.file] = os.open(part.file, os.O_RDONLY)
        return os.pread(reader, part.length, part.offset)

    def close(self) -> None:
        for handle in (self._data, self._index, *self._readers.values()):
            with contextlib.suppress(OSError):
                os.close(handle)
        self._readers.clear()

    def remove(self) -> None:
        self.close()
        shutil.rmtree(self.directory, ignore_errors=True)
