"""HLS segments and playlists: AAC frames packed as MPEG-TS, or as raw ADTS behind ID3."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

import av

from airspace.media.adts import audio_specific_config, parse_header
from airspace.media.constants import AAC_FRAME_SAMPLES, MPEGTS_CLOCK


def mpegts_segment(frames: Sequence[bytes], first_sample: int) -> bytes:
    """An MPEG-TS segment of ADTS ``frames``, the first starting at sample ``first_sample``.

    Timestamps (90 kHz) continue across segments, so players see one timeline.
    """
    header = parse_header(frames[0])
    sample_rate = header.sample_rate
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mpegts") as container:
        stream = container.add_stream("aac", rate=sample_rate)
        stream.codec_context.layout = "mono" if header.channels == 1 else "stereo"
        stream.codec_context.extradata = audio_specific_config(frames[0])
        stream.time_base = Fraction(1, MPEGTS_CLOCK)
        for index, frame in enumerate(frames):
            packet = av.Packet(frame[parse_header(frame).header_length :])
            start = first_sample + index * AAC_FRAME_SAMPLES
            packet.pts = packet.dts = start * MPEGTS_CLOCK // sample_rate
            packet.time_base = stream.time_base
            packet.stream = stream
            container.mux(packet)
    return buffer.getvalue()


def _syncsafe(value: int) -> bytes:
    return bytes(((value >> 21) & 0x7F, (value >> 14) & 0x7F, (value >> 7) & 0x7F, value & 0x7F))


def packed_audio_segment(frames: Sequence[bytes], first_sample: int) -> bytes:
    """Raw ADTS frames behind an ID3 tag whose PRIV frame holds the segment's 90 kHz
    timestamp (HLS "packed audio", as X serves Spaces)."""
    sample_rate = parse_header(frames[0]).sample_rate
    timestamp = (first_sample * MPEGTS_CLOCK // sample_rate) & ((1 << 33) - 1)
    body = b"com.apple.streaming.transportStreamTimestamp\x00" + timestamp.to_bytes(8, "big")
    priv = b"PRIV" + _syncsafe(len(body)) + b"\x00\x00" + body
    tag = b"ID3\x04\x00\x00" + _syncsafe(len(priv)) + priv
    return tag + b"".join(frames)


@dataclass(frozen=True)
class PlaylistEntry:
    uri: str
    duration: float
    program_date_time: datetime | None = None
    discontinuity: bool = False
    """Audio is missing before this segment (another node took the room over)."""


def media_playlist(
    entries: Sequence[PlaylistEntry],
    *,
    media_sequence: int = 0,
    ended: bool = False,
    vod: bool = False,
    start_offset: float | None = None,
    target_duration: float | None = None,
) -> str:
    """An HLS media playlist (version 3) naming ``entries``."""
    target = target_duration or max((e.duration for e in entries), default=2.0)
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{math.ceil(target)}",
        f"#EXT-X-MEDIA-SEQUENCE:{media_sequence}",
    ]
    if vod:
        lines.append("#EXT-X-PLAYLIST-TYPE:VOD")
    if start_offset is not None:
        lines.append(f"#EXT-X-START:TIME-OFFSET={start_offset:.6f},PRECISE=YES")
    for entry in entries:
        if entry.discontinuity:
            lines.append("#EXT-X-DISCONTINUITY")
        if entry.program_date_time is not None:
            stamp = entry.program_date_time.isoformat(timespec="milliseconds")
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{stamp.replace('+00:00', 'Z')}")
        lines.append(f"#EXTINF:{entry.duration:.6f},")
        lines.append(entry.uri)
    if ended or vod:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SubtitlesEntry:
    """A subtitles rendition of a master playlist."""

    uri: str
    name: str = "English"
    language: str = "en"
    group: str = "captions"


def master_playlist(
    media_uri: str, bandwidth: int, codecs: str, subtitles: SubtitlesEntry | None = None
) -> str:
    """An HLS master playlist (version 3): one audio variant, and its subtitles."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3"]
    variant = f'#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},CODECS="{codecs}"'
    if subtitles is not None:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="{subtitles.group}",NAME="{subtitles.name}",'
            f'LANGUAGE="{subtitles.language}",DEFAULT=YES,AUTOSELECT=YES,URI="{subtitles.uri}"'
        )
        variant += f',SUBTITLES="{subtitles.group}"'
    lines += [variant, media_uri]
    return "\n".join(lines) + "\n"


def segment_frames(frames: Sequence[bytes], seconds: float, sample_rate: int) -> list[list[bytes]]:
    """Group frames into segments of about ``seconds``, cutting at frame boundaries
    without drift (segment ``n`` starts at the frame nearest ``n * seconds``)."""
    groups: list[list[bytes]] = []
    start = 0
    index = 1
    while start < len(frames):
        end = round(index * seconds * sample_rate / AAC_FRAME_SAMPLES)
        groups.append(list(frames[start:end]))
        start = end
        index += 1
    return groups
