"""Putting fetched segments back in order: what the converter is fed, and when to give up.

Segments finish in any order, from this process or from fetching processes. The
assembly feeds the converter each one as soon as every segment before it is settled,
turns a segment that could not be fetched into silence of its exact duration (with a
warning naming it), stops the download when too many fail or the size cap is passed,
and keeps the progress figures.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from airspace.downloader.converters import Converter
from airspace.downloader.errors import FetchError, TooLarge
from airspace.downloader.hls import Segment
from airspace.downloader.parts import PartsCache
from airspace.downloader.progress import Progress
from airspace.downloader.segments import silence

AudioFormat = tuple[int, int]
"""Sample rate and channels."""


class Assembly:
    """Segments settled in any order; the converter fed in playlist order.

    ``open_converter`` is called once, with the first segment's audio format.
    """

    def __init__(
        self,
        segments: Sequence[Segment],
        cache: PartsCache,
        open_converter: Callable[[int, int], Converter],
        state: Progress,
        report: Callable[[], None],
        max_bytes: int | None = None,
    ) -> None:
        self.segments = segments
        self.cache = cache
        self.open_converter = open_converter
        self.state = state
        self.report = report
        self.max_bytes = max_bytes
        # A few bad segments become silence; many mean the server is failing: stop, and
        # let the same command resume later.
        self.max_failures = max(3, len(segments) // 10)
        self.warnings: list[str] = []
        self.converter: Converter | None = None
        self.audio_format: AudioFormat | None = None
        self._ready: dict[int, int] = {}  # index -> samples
        self._failed: dict[int, str] = {}
        self._failures = 0
        self._next = 0

    def stored(self, index: int, samples: int, size: int, audio: AudioFormat) -> None:
        """Segment ``index`` is in the parts cache: ``samples`` of ``audio``, ``size``
        bytes fetched (0 when it was already cached)."""
        self._ready[index] = samples
        if self.audio_format is None:
            self.audio_format = audio
        self._settled(index, size)

    def failed(self, index: int, reason: str) -> None:
        """Segment ``index`` could not be fetched; raises FetchError past the limit."""
        self._failed[index] = reason
        self._failures += 1
        if self._failures > self.max_failures:
            raise FetchError(
                f"{self._failures} segments could not be fetched (the last: {reason}); "
                "the server seems to be failing. What was fetched is kept: run the same "
                "command again to resume"
            )
        self._settled(index, 0)

    def complete(self) -> Converter:
        """After every segment was settled: the converter, fed to the end."""
        if self.audio_format is None:
            first = next(iter(self._failed.values()), "")
            raise FetchError(f"no segment could be fetched ({first})")
        self._advance()
        assert self.converter is not None
        if self._next != len(self.segments):  # a segment neither stored nor failed
            raise FetchError(
                f"segment {self.segments[self._next].sequence} never arrived; run the same "
                "command again to resume"
            )
        return self.converter

    def _settled(self, index: int, size: int) -> None:
        state = self.state
        state.bytes_done += size
        if self.max_bytes is not None and state.bytes_done > self.max_bytes:
            raise TooLarge(f"the recording is larger than {self.max_bytes // 2**20} MB")
        state.segments_done += 1
        state.seconds_done += self.segments[index].duration
        self._advance()
        if self.converter is not None:
            state.seconds_converted = self.converter.converted_seconds
        self.report()

    def _advance(self) -> None:
        """Feed the converter every segment that is now next in order."""
        if self.audio_format is None:
            return
        if self.converter is None:
            self.converter = self.open_converter(*self.audio_format)
        converter = self.converter
        while self._next in self._ready or self._next in self._failed:
            segment = self.segments[self._next]
            if self._next in self._failed:
                filler = silence(segment.duration, *self.audio_format)
                part = self.cache.write_filler(segment.sequence, filler.to_bytes())
                self.warnings.append(
                    f"segment {segment.sequence} ({self._clock(self._next)}) could not be "
                    f"fetched ({self._failed.pop(self._next)}); replaced by "
                    f"{filler.duration:.3f} s of silence"
                )
                converter.feed(part, filler.samples)
            else:
                converter.feed(self.cache.get(segment.sequence), self._ready.pop(self._next))
            self._next += 1

    def _clock(self, index: int) -> str:
        seconds = sum(s.duration for s in self.segments[:index])
        return f"at {int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{seconds % 60:06.3f}"
