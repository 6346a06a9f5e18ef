"""HLS playlists: parse master and media playlists (RFC 8216) into plain data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from airspace.downloader.errors import PlaylistError

_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)')


def parse_attributes(text: str) -> dict[str, str]:
    """``KEY=value,KEY="quoted"`` into a dict, quotes removed."""
    return {key: value.strip('"') for key, value in _ATTRIBUTE.findall(text)}


@dataclass(frozen=True)
class Variant:
    url: str
    bandwidth: int
    codecs: str = ""
    audio_group: str | None = None


@dataclass(frozen=True)
class Rendition:
    """An ``EXT-X-MEDIA`` entry (an alternative audio rendition, or subtitles)."""

    kind: str
    group: str
    name: str
    url: str | None
    default: bool


@dataclass(frozen=True)
class MasterPlaylist:
    variants: list[Variant]
    renditions: list[Rendition]

    def best_audio_url(self) -> str:
        """The media playlist with the best audio: an audio rendition of the best variant's
        group if there is one, else the highest-bandwidth variant."""
        if not self.variants:
            audio = [r for r in self.renditions if r.kind == "AUDIO" and r.url]
            if not audio:
                raise PlaylistError("the master playlist lists no variant")
            return str(audio[0].url)
        best = max(self.variants, key=lambda v: v.bandwidth)
        if best.audio_group:
            in_group = [
                r for r in self.renditions if r.kind == "AUDIO" and r.group == best.audio_group
            ]
            chosen = next((r for r in in_group if r.default and r.url), None) or next(
                (r for r in in_group if r.url), None
            )
            if chosen is not None and chosen.url:
                return chosen.url
        return best.url


@dataclass(frozen=True)
class Segment:
    url: str
    duration: float
    """Seconds, from ``EXTINF``."""
    sequence: int
    """The media sequence number (``EXT-X-MEDIA-SEQUENCE`` + position)."""
    discontinuity: bool = False
    program_date_time: datetime | None = None
    byte_range: tuple[int, int] | None = None
    """(offset, length) from ``EXT-X-BYTERANGE``."""


@dataclass(frozen=True)
class MediaPlaylist:
    segments: list[Segment]
    target_duration: float
    media_sequence: int = 0
    ended: bool = False
    playlist_type: str | None = None
    start_offset: float | None = None
    """``EXT-X-START:TIME-OFFSET`` in seconds, when given."""
    encrypted: bool = False
    has_init_section: bool = False

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)

    @property
    def is_live(self) -> bool:
        return not self.ended and self.playlist_type != "VOD"


def is_master(text: str) -> bool:
    return "#EXT-X-STREAM-INF" in text or ("#EXT-X-MEDIA:" in text and "#EXTINF" not in text)


def parse_master(text: str, base_url: str) -> MasterPlaylist:
    _check_header(text)
    variants: list[Variant] = []
    renditions: list[Rendition] = []
    lines = [line.strip() for line in text.splitlines()]
    for index, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attributes = parse_attributes(line.split(":", 1)[1])
            uri = next((u for u in lines[index + 1 :] if u and not u.startswith("#")), None)
            if uri is None:
                raise PlaylistError("a variant in the master playlist has no URI")
            variants.append(
                Variant(
                    url=urljoin(base_url, uri),
                    bandwidth=_int(attributes.get("BANDWIDTH", "0")),
                    codecs=attributes.get("CODECS", ""),
                    audio_group=attributes.get("AUDIO"),
                )
            )
        elif line.startswith("#EXT-X-MEDIA:"):
            attributes = parse_attributes(line.split(":", 1)[1])
            uri = attributes.get("URI")
            renditions.append(
                Rendition(
                    kind=attributes.get("TYPE", ""),
                    group=attributes.get("GROUP-ID", ""),
                    name=attributes.get("NAME", ""),
                    url=urljoin(base_url, uri) if uri else None,
                    default=attributes.get("DEFAULT") == "YES",
                )
            )
    return MasterPlaylist(variants, renditions)


def parse_media(text: str, base_url: str) -> MediaPlaylist:
    _check_header(text)
    segments: list[Segment] = []
    target = 0.0
    media_sequence = 0
    ended = False
    playlist_type = None
    start_offset = None
    encrypted = False
    has_init = False
    duration: float | None = None
    discontinuity = False
    program_date_time: datetime | None = None
    byte_range: tuple[int, int] | None = None
    next_range_offset = 0
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#EXTINF:"):
            value = line.split(":", 1)[1].split(",", 1)[0]
            duration = _float(value, "EXTINF")
        elif line.startswith("#EXT-X-TARGETDURATION:"):
            target = _float(line.split(":", 1)[1], "EXT-X-TARGETDURATION")
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            media_sequence = _int(line.split(":", 1)[1])
        elif line == "#EXT-X-ENDLIST":
            ended = True
        elif line.startswith("#EXT-X-PLAYLIST-TYPE:"):
            playlist_type = line.split(":", 1)[1].strip()
        elif line.startswith("#EXT-X-START:"):
            offset = parse_attributes(line.split(":", 1)[1]).get("TIME-OFFSET")
            start_offset = _float(offset, "EXT-X-START") if offset else None
        elif line.startswith("#EXT-X-KEY:"):
            method = parse_attributes(line.split(":", 1)[1]).get("METHOD", "NONE")
            encrypted = encrypted or method != "NONE"
        elif line.startswith("#EXT-X-MAP:"):
            has_init = True
        elif line == "#EXT-X-DISCONTINUITY":
            discontinuity = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            program_date_time = _datetime(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-BYTERANGE:"):
            length_text, _, offset_text = line.split(":", 1)[1].partition("@")
            range_start = _int(offset_text) if offset_text else next_range_offset
            byte_range = (range_start, _int(length_text))
            next_range_offset = range_start + byte_range[1]
        elif not line.startswith("#"):
            if duration is None:
                raise PlaylistError(f"segment {line!r} has no #EXTINF duration")
            segments.append(
                Segment(
                    url=urljoin(base_url, line),
                    duration=duration,
                    sequence=media_sequence + len(segments),
                    discontinuity=discontinuity,
                    program_date_time=program_date_time,
                    byte_range=byte_range,
                )
            )
            duration, discontinuity, program_date_time, byte_range = None, False, None, None
    return MediaPlaylist(
        segments=segments,
        target_duration=target,
        media_sequence=media_sequence,
        ended=ended,
        playlist_type=playlist_type,
        start_offset=start_offset,
        encrypted=encrypted,
        has_init_section=has_init,
    )


def _check_header(text: str) -> None:
    if not text.lstrip("\ufeff").startswith("#EXTM3U"):
        raise PlaylistError("not an HLS playlist (no #EXTM3U header)")


def _int(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise PlaylistError(f"expected a whole number in the playlist, got {value!r}") from None


def _float(value: str, tag: str) -> float:
    try:
        return float(value.strip())
    except ValueError:
        raise PlaylistError(f"bad {tag} value {value!r}") from None


def _datetime(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
