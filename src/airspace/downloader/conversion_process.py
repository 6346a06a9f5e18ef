"""Conversion on a core of its own: a converter that runs in a child process.

The download loop (fetching, demuxing, checking, caching) keeps the parent process
busy; the lossless remuxes and the decoders run beside it in a child that reads the
parts from the parts cache as they are named to it. Only a part's place (offset and
length, 17 bytes) crosses the pipe; the child reads the bytes from the file itself.

The child is forked from this process, or comes from the fork server (see
``child_processes.py``) on a thread, so the download never waits for it; a thread in the
parent writes to the pipe, so feeding never waits either.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from airspace.downloader.child_processes import child_context, started_as_child
from airspace.downloader.errors import DownloadError, PlaylistError
from airspace.downloader.parts import Part, read_parts
from airspace.downloader.segments import read_normalized

# What crosses the pipe: records, as many in one message as the feeding thread finds
# waiting (a pipe write, and a read in the child, for a batch of parts instead of each).
_PART = struct.Struct("<cQQ")  # b"P", offset, length: the next part
_FILE = struct.Struct("<cH")  # b"F", then a path of this many bytes: the parts' file from now
_END = b"E"  # no more parts


@dataclass(frozen=True)
class ConversionSettings:
    """What a child converter writes, handed to the child whole."""

    output: Path
    sample_rate: int
    channels: int
    trim_start: int
    """Samples left out at the start."""
    expected_samples: int
    """About how many samples the source holds (0: unknown)."""


@dataclass
class ConversionStats:
    output_samples: int = 0
    damaged_frames: int = 0


class ChildConverter:
    """Consumes parts in a child process; subclasses implement ``convert``, which runs
    there and keeps ``self.stats`` up to date."""

    def __init__(
        self,
        output: Path,
        *,
        sample_rate: int,
        channels: int,
        trim_start: int,
        expected_samples: int = 0,
    ) -> None:
        settings = ConversionSettings(output, sample_rate, channels, trim_start, expected_samples)
        self._apply(settings)
        self._file: str | None = None
        self._broken = False
        self._start_error: str | None = None
        context = child_context()
        self._connection, child_end = context.Pipe()
        # Samples written so far, shared with the child (progress without messages).
        self._written: Any = context.Value("q", 0, lock=False)
        self._process = context.Process(
            target=_child_main,
            args=(type(self), settings, child_end, self._written),
            name="airspace-convert",
            daemon=True,
        )
        self._child_end = child_end
        # A fork is done at once, before the feeding thread exists; the fork server
        # takes a while, so it is asked from a thread.
        self._starter: threading.Thread | None = None
        if context.get_start_method() == "fork":
            self._start()
        else:
            self._starter = threading.Thread(target=self._start, daemon=True)
            self._starter.start()
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send, daemon=True)
        self._sender.start()

    def _apply(self, settings: ConversionSettings) -> None:
        self.output = settings.output
        self.sample_rate = settings.sample_rate
        self.channels = settings.channels
        self.trim_start = settings.trim_start
        self.expected_samples = settings.expected_samples
        self.stats = ConversionStats()

    def _start(self) -> None:
        try:
            self._process.start()
        except Exception as exc:  # finish() reports it; feeding stops now
            self._start_error = f"the conversion process did not start ({exc})"
            self._broken = True
        finally:
            self._child_end.close()

    def feed(self, part: Part, samples: int) -> None:
        """The next part, in order. Never blocks: a thread writes to the pipe, so a child
        that is still starting or slower than the download does not hold up the loop."""
        if part.file != self._file:
            self._file = part.file
            path = part.file.encode()
            self._outbox.put(_FILE.pack(b"F", len(path)) + path)
        self._outbox.put(_PART.pack(b"P", part.offset, part.length))

    def _send(self) -> None:
        """The feeding thread: records to the child, in order, until ``None``; each write
        carries every record waiting by then."""
        if self._starter is not None:
            self._starter.join()
        last = False
        while not last:
            batch = [self._outbox.get()]
            with contextlib.suppress(queue.Empty):
                while batch[-1] is not None:
                    batch.append(self._outbox.get_nowait())
            if batch[-1] is None:
                last = True
                batch.pop()
            if self._broken or not batch:
                continue  # the child is gone; finish() says so
            try:
                self._connection.send_bytes(b"".join(batch))  # type: ignore[arg-type]
            except OSError:
                self._broken = True

    @property
    def converted_seconds(self) -> float:
        return int(self._written.value) / self.sample_rate

    async def finish(self) -> ConversionStats:
        """Wait for the output to be complete."""
        self._outbox.put(_END)
        self._outbox.put(None)
        await asyncio.to_thread(self._sender.join)  # it waits for the start first
        if self._start_error is not None:
            self._connection.close()
            raise DownloadError(self._start_error)
        outcome: str = "error"
        value: object = "the conversion process stopped unexpectedly"
        try:
            if not self._broken:
                outcome, value = await asyncio.to_thread(self._connection.recv)
        except (OSError, EOFError):
            pass
        finally:
            await asyncio.to_thread(self._process.join, 10)
            self._connection.close()
        if outcome == "done":
            assert isinstance(value, ConversionStats)
            self.stats = value
            return value
        if outcome == "input":
            raise PlaylistError(str(value))
        raise DownloadError(f"converting to {self.output.suffix.lstrip('.')} failed: {value}")

    def abort(self) -> None:
        """Stop the child (the download failed before the end)."""
        if self._starter is not None:
            self._starter.join()
        self._outbox.put(None)
        if self._process.pid is not None:
            self._process.kill()
            self._process.join(5)
        with contextlib.suppress(OSError):
            self._connection.close()

    # --- in the child -------------------------------------------------------------

    def _parts(self, records: _Records) -> Iterator[Part]:
        file = ""
        for record in records:
            if isinstance(record, str):
                file = record
                continue
            offset, length = record
            yield Part(file, offset, length)
            self._written.value = self.stats.output_samples

    takes_parts = False
    """True: ``convert`` is handed each part's bytes; False: each ADTS frame."""

    def frames(self, records: _Records) -> Iterator[bytes]:
        """The ADTS frames of every part, in order (each part's bytes if ``takes_parts``)."""
        for data in read_parts(self._parts(records)):
            if self.takes_parts:
                yield data
            else:
                yield from read_normalized(data).frames

    def convert(self, frames: Iterator[bytes]) -> None:
        raise NotImplementedError


class _Records:
    """The records the parent sends, up to the end: a part's (offset, length), or the
    path of the file the parts after it are in. Iterating again goes on where the last
    iteration stopped."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.ended = False
        self._message = b""
        self._at = 0

    def __iter__(self) -> Iterator[tuple[int, int] | str]:
        while not self.ended:
            if self._at >= len(self._message):
                self._message, self._at = self.connection.recv_bytes(), 0
                continue
            message, at = self._message, self._at
            kind = message[at : at + 1]
            if kind == b"P":
                _, offset, length = _PART.unpack_from(message, at)
                self._at = at + _PART.size
                yield offset, length
            elif kind == b"F":
                _, size = _FILE.unpack_from(message, at)
                self._at = at + _FILE.size + size
                yield message[self._at - size : self._at].decode()
            elif kind == _END:
                self.ended = True
            else:
                raise RuntimeError(f"unknown record {kind!r} from the parent")


def _child_main(
    kind: type[ChildConverter],
    settings: ConversionSettings,
    connection: Connection,
    written: Any,
) -> None:
    started_as_child()
    converter = kind.__new__(kind)  # the parent's object holds threads: not copied here
    converter._apply(settings)
    converter._written = written
    records = _Records(connection)
    try:
        converter.convert(converter.frames(records))
    except ValueError as exc:
        result: tuple[str, object] = ("input", str(exc))
    except Exception as exc:
        result = ("error", f"{type(exc).__name__}: {exc}")
    else:
        written.value = converter.stats.output_samples
        result = ("done", converter.stats)
    if result[0] != "done":
        with contextlib.suppress(OSError, EOFError, RuntimeError):
            for _record in records:  # let the parent finish feeding
                pass
    with contextlib.suppress(OSError):  # the parent may have given up already
        connection.send(result)
    connection.close()
