"""The parts cache: each finished segment's AAC frames on disk, so an interrupted
download picks up where it stopped and produces the same file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from airspace.downloader.hls import Segment


def playlist_identity(segments: Sequence[Segment]) -> str:
    """What makes two runs the same download: segment paths and durations (query strings,
    which often carry expiring signatures, are left out)."""
    digest = hashlib.sha256()
    for segment in segments:
        line = f"{segment.sequence}|{segment.url.split('?', 1)[0]}|{segment.duration}\n"
        digest.update(line.encode())
    return digest.hexdigest()[:24]


class PartsCache:
    MANIFEST = "manifest.json"

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

    def path(self, sequence: int) -> Path:
        return self.directory / f"{sequence:010d}.aac"

    def has(self, sequence: int) -> bool:
        return self.path(sequence).is_file()

    def write(self, sequence: int, data: bytes) -> None:
        # Written aside and renamed, so a part on disk is always whole. Each sequence has
        # one writer, so the side name needs no randomness (and no extra system calls).
        path = self.path(sequence)
        side = path.with_suffix(".partial")
        side.write_bytes(data)
        os.replace(side, path)

    def write_filler(self, sequence: int, data: bytes) -> Path:
        """Silence standing in for a segment that failed; a later run tries it again."""
        path = self.directory / f"{sequence:010d}.silence"
        path.write_bytes(data)
        return path

    def read(self, sequence: int) -> bytes:
        return self.path(sequence).read_bytes()

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
