"""A real filesystem that fills up: a small tmpfs mounted for a test, and a filler file."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

FILLER = "filler"


@contextmanager
def tiny_filesystem(path: Path, size: str = "2m") -> Iterator[Path]:
    """``path``, a tmpfs of ``size`` for as long as the context lasts (skips the test
    where this machine cannot mount one)."""
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> Path:
    """Write to a file in ``path`` until the filesystem is full; the file, to free it."""
    filler = path / FILLER
    with filler.open("wb") as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 65536)
            out.flush()
    return filler
