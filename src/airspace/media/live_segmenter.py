"""The live program into HLS: AAC-LC in 2-second MPEG-TS segments, each durable in
storage before any playlist names it, with one continuous timeline."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from airspace.media.aac import AacEncoder
from airspace.media.constants import AAC_FRAME_SAMPLES, SAMPLE_RATE, SEGMENT_SECONDS
from airspace.media.hls_segments import PlaylistEntry, media_playlist, mpegts_segment
from airspace.storage.interfaces import Storage

logger = logging.getLogger(__name__)

MAX_UNSTORED = 30
"""Segments (a minute of program) kept in memory while storage refuses them."""
HOT_WINDOW = 6
"""Segments kept in memory for listeners at the live edge (and named by the live playlist)."""
LIVE_URI_PREFIX = "live/"
"""Segment URIs in the live playlist are relative, so they carry the playlist's grant."""
PEAK_SAMPLES = SAMPLE_RATE // 10
"""The waveform has one peak per 100 ms of program."""


class StorageRefused(Exception):
    """Storage refused segments for longer than the memory buffer holds."""


@dataclass(frozen=True)
class StoredSegment:
    sequence: int
    key: str
    """Storage key of the MPEG-TS segment."""
    first_sample: int
    """Where the segment starts on the Space's timeline, in samples."""
    samples: int
    program_date_time: datetime
    peaks: bytes = b""
    """The waveform of the segment: the loudest sample of each 100 ms that starts in it,
    0 to 255 (full scale)."""
    discontinuity: bool = False
    """The first segment after a takeover: audio is missing before it."""

    @property
    def duration(self) -> float:
        return self.samples / SAMPLE_RATE

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Resume:
    """Where a room taken over by another node carries the recording on."""

    sequence: int
    """The next segment's sequence (the recording's segments stay numbered 0, 1, 2...)."""
    key_index: int
    """The next segment's number in its storage key: past anything the previous owner
    may still have stored, so that nothing it writes late lands on these keys."""
    first_sample: int
    """Where the stored audio ends on the recording's timeline (a whole AAC frame)."""
    at: datetime
    """The wall-clock time of ``first_sample`` from now on (the time in between is lost)."""


class LiveSegmenter:
    """Program audio in (float32 mono, any block size), stored segments out.

    Segment ``n`` ends at the AAC frame nearest ``(n + 1) * 2 s``, so segments stay on a
    2-second grid however long the Space runs; timestamps run on from segment to segment.
    """

    def __init__(
        self,
        storage: Storage,
        prefix: str,
        started_at: datetime,
        on_segment: Callable[[StoredSegment, bytes], None] | None = None,
        seconds: float = SEGMENT_SECONDS,
        resume: Resume | None = None,
    ) -> None:
        self.storage = storage
        self.prefix = prefix.rstrip("/") + "/"
        self.started_at = started_at
        self.on_segment = on_segment
        self.seconds = seconds
        self.encoder = AacEncoder()
        self.segments: list[StoredSegment] = []
        self.playlist = self.live_playlist(uri_prefix=LIVE_URI_PREFIX).encode()
        """The live playlist as listeners get it, made once per new segment."""
        self.resume = resume
        self._pending: list[bytes] = []
        self._unstored: deque[tuple[StoredSegment, bytes]] = deque()
        """Segments cut but not yet stored (storage refused them), oldest first."""
        self._refusing = False
        self._first_sequence = resume.sequence if resume is not None else 0
        self._first_key = resume.key_index if resume is not None else 0
        self._first_frame = resume.first_sample // AAC_FRAME_SAMPLES if resume is not None else 0
        self._frames_done = self._first_frame
        self._dated_from = (
            resume.at - timedelta(seconds=resume.first_sample / SAMPLE_RATE)
            if resume is not None
            else started_at
        )
        """The wall-clock time of sample 0, as the segments from here on date it."""
        self._peaks = bytearray()
        self._peak_tail = np.zeros(0, dtype=np.float32)

    def resumed_from(self, moment: datetime) -> None:
        """The resumed audio begins at ``moment`` on the wall clock (set before any of it
        is pushed): what its segments are dated from."""
        assert self.resume is not None
        assert not self.segments
        self._dated_from = moment - timedelta(seconds=self.resume.first_sample / SAMPLE_RATE)

    def _boundary(self, sequence: int) -> int:
        """The frame index at which segment ``sequence`` ends."""
        index = sequence - self._first_sequence
        frames = round((index + 1) * self.seconds * SAMPLE_RATE / AAC_FRAME_SAMPLES)
        return self._first_frame + frames

    def push(self, pcm: np.ndarray) -> list[StoredSegment]:
        """Encode the next program samples; returns the segments completed by them."""
        self._measure_peaks(pcm)
        self._pending.extend(self.encoder.encode(pcm))
        return self._cut(final=False)

    def close(self) -> list[StoredSegment]:
        """Encode what is left and store it as a last, shorter segment."""
        if self._peak_tail.size:
            self._peaks.append(_peak_byte(self._peak_tail))
            self._peak_tail = np.zeros(0, dtype=np.float32)
        self._pending.extend(self.encoder.flush())
        return self._cut(final=True)

    def _measure_peaks(self, pcm: np.ndarray) -> None:
        samples = np.concatenate([self._peak_tail, pcm]) if self._peak_tail.size else pcm
        whole = len(samples) // PEAK_SAMPLES * PEAK_SAMPLES
        if whole:
            blocks = np.abs(samples[:whole]).reshape(-1, PEAK_SAMPLES).max(axis=1)
            self._peaks.extend(np.clip(np.round(blocks * 255), 0, 255).astype(np.uint8).tobytes())
        self._peak_tail = samples[whole:].astype(np.float32, copy=True)

    def _cut(self, *, final: bool) -> list[StoredSegment]:
        while self._pending:
            sequence = self._first_sequence + len(self.segments) + len(self._unstored)
            needed = self._boundary(sequence) - self._frames_done
            if len(self._pending) < needed and not final:
                break
            frames, self._pending = self._pending[:needed], self._pending[needed:]
            self._cut_segment(sequence, frames)
        return self._store_waiting(final=final)

    def _cut_segment(self, sequence: int, frames: list[bytes]) -> None:
        first_sample = self._frames_done * AAC_FRAME_SAMPLES
        data = mpegts_segment(frames, first_sample)
        key_index = self._first_key + sequence - self._first_sequence
        samples = len(frames) * AAC_FRAME_SAMPLES
        measured_from = first_sample - self._first_frame * AAC_FRAME_SAMPLES
        first_peak = -(-measured_from // PEAK_SAMPLES)
        end_peak = -(-(measured_from + samples) // PEAK_SAMPLES)
        segment = StoredSegment(
            sequence=sequence,
            key=f"{self.prefix}{key_index:06d}.ts",
            first_sample=first_sample,
            samples=samples,
            program_date_time=self._dated_from + timedelta(seconds=first_sample / SAMPLE_RATE),
            peaks=bytes(self._peaks[first_peak:end_peak]),
            discontinuity=self.resume is not None and sequence == self._first_sequence,
        )
        self._frames_done += len(frames)
        self._unstored.append((segment, data))

    def _store_waiting(self, *, final: bool) -> list[StoredSegment]:
        """Store the segments cut so far, in order, each durable before anything names
        it. A segment storage refuses waits in memory (with those after it) and is tried
        again with the next; more than ``MAX_UNSTORED`` waiting, or any left when the
        Space ends, raises StorageRefused: what was stored is the recording."""
        stored = []
        while self._unstored:
            segment, data = self._unstored[0]
            try:
                self.storage.put(segment.key, data, "video/mp2t")
            except Exception as error:
                if final or len(self._unstored) > MAX_UNSTORED:
                    raise StorageRefused(
                        f"storage refused {len(self._unstored)} segment(s): {error}"
                    ) from error
                if not self._refusing:
                    logger.warning("storage refused %s (%s); kept to retry", segment.key, error)
                self._refusing = True
                break
            if self._refusing:
                logger.warning("storage takes segments again (%d waited)", len(self._unstored))
                self._refusing = False
            self._unstored.popleft()
            self._announce(segment, data)
            stored.append(segment)
        return stored

    def _announce(self, segment: StoredSegment, data: bytes) -> None:
        """A segment is durable: listeners and the recording may name it now."""
        self.segments.append(segment)
        self.playlist = self.live_playlist(uri_prefix=LIVE_URI_PREFIX).encode()
        if self.on_segment is not None:
            self.on_segment(segment, data)

    @property
    def duration(self) -> float:
        """Seconds of program stored so far."""
        return self._frames_done * AAC_FRAME_SAMPLES / SAMPLE_RATE

    def live_playlist(
        self, ended: bool = False, window: int = HOT_WINDOW, uri_prefix: str = ""
    ) -> str:
        """The live media playlist: the last ``window`` segments, or all with ENDLIST.
        Segment URIs are ``uri_prefix`` + the segment's file name."""
        shown = self.segments[-window:] if not ended else self.segments
        entries = [
            PlaylistEntry(uri_prefix + s.name, s.duration, s.program_date_time, s.discontinuity)
            for s in shown
        ]
        return media_playlist(
            entries,
            media_sequence=shown[0].sequence if shown else 0,
            ended=ended,
            target_duration=self.seconds,
        )


def _peak_byte(samples: np.ndarray) -> int:
    return int(np.clip(round(float(np.abs(samples).max()) * 255), 0, 255))


def peaks_of(pcm: np.ndarray, first_sample: int) -> bytes:
    """Segment peaks from its decoded audio (``pcm`` starts at ``first_sample`` of the
    timeline): one per 100 ms window starting within it, as the segmenter measures them."""
    start = -(-first_sample // PEAK_SAMPLES) * PEAK_SAMPLES - first_sample
    out = bytearray()
    for at in range(start, len(pcm), PEAK_SAMPLES):
        out.append(_peak_byte(pcm[at : at + PEAK_SAMPLES]))
    return bytes(out)
