"""Tags of every audio file Airspace writes — renditions, clips, downloads: title, host,
date, link, cover art and chapters, written in this one place. ID3v2.4 for MP3 (with
CHAP/CTOC chapters) and WAV, MP4 atoms for M4A (its chapters go into the file's index
as it is written, see ``media.mp4``), Vorbis comments for Opus."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from mutagen.id3 import APIC, CHAP, COMM, CTOC, ID3, TDRC, TIT2, TMCL, TPE1, WOAS, CTOCFlags
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus
from mutagen.wave import WAVE


@dataclass(frozen=True)
class FileTags:
    title: str
    host: str
    date: datetime | None = None
    link: str = ""
    cover: bytes | None = None
    """A PNG or JPEG."""
    chapters: Sequence[tuple[float, str]] = field(default_factory=tuple)
    """(start in seconds of the file, title), in order."""
    participants: Sequence[tuple[str, str]] = field(default_factory=tuple)
    """(role, name) of those on stage: ("host", "Ana (@ana)"), ("speaker", ...)."""


def _cover_kind(data: bytes) -> tuple[str, int]:
    if data.startswith(b"\x89PNG"):
        return "image/png", MP4Cover.FORMAT_PNG
    return "image/jpeg", MP4Cover.FORMAT_JPEG


def _id3(tags: FileTags, duration: float | None) -> ID3:
    frames = ID3()
    frames.add(TIT2(encoding=3, text=tags.title))
    frames.add(TPE1(encoding=3, text=tags.host))
    if tags.date is not None:
        frames.add(TDRC(encoding=3, text=tags.date.strftime("%Y-%m-%d")))
    if tags.link:
        frames.add(COMM(encoding=3, lang="eng", desc="", text=tags.link))
        frames.add(WOAS(url=tags.link))
    if tags.participants:  # ID3v2.4's list of who performed, and in what role
        frames.add(TMCL(encoding=3, people=[list(pair) for pair in tags.participants]))
    if tags.cover:
        mime, _ = _cover_kind(tags.cover)
        frames.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=tags.cover))
    if tags.chapters and duration is not None:
        ids = [f"chp{number}" for number in range(len(tags.chapters))]
        frames.add(
            CTOC(
                element_id="toc",
                flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[TIT2(encoding=3, text="Chapters")],
            )
        )
        ends = [start for start, _ in tags.chapters[1:]] + [duration]
        for element, (start, title), end in zip(ids, tags.chapters, ends, strict=True):
            frames.add(
                CHAP(
                    element_id=element,
                    start_time=round(start * 1000),
                    end_time=round(end * 1000),
                    sub_frames=[TIT2(encoding=3, text=title)],
                )
            )
    return frames


def write_tags(path: Path, fmt: str, tags: FileTags, duration: float | None = None) -> None:
    """Tag the ``fmt`` file at ``path``; ``duration`` (seconds) ends the last chapter."""
    if fmt == "mp3":
        _id3(tags, duration).save(path, v2_version=4)
    elif fmt == "wav":
        wave = WAVE(path)
        wave.add_tags()
        assert wave.tags is not None
        for frame in _id3(tags, duration).values():
            wave.tags.add(frame)
        wave.save()
    elif fmt == "m4a":
        mp4 = MP4(path)
        if mp4.tags is None:
            mp4.add_tags()
        mp4["\xa9nam"] = [tags.title]
        mp4["\xa9ART"] = [tags.host]
        if tags.date is not None:
            mp4["\xa9day"] = [tags.date.strftime("%Y-%m-%d")]
        if tags.link:
            mp4["\xa9cmt"] = [tags.link]
        if tags.cover:
            mp4["covr"] = [MP4Cover(tags.cover, imageformat=_cover_kind(tags.cover)[1])]
        if tags.participants:
            mp4["----:com.apple.iTunes:PARTICIPANTS"] = [
                f"{name} ({role})".encode() for role, name in tags.participants
            ]
        mp4.save()
    elif fmt == "opus":
        opus = OggOpus(path)
        opus["title"] = tags.title
        opus["artist"] = tags.host
        if tags.date is not None:
            opus["date"] = tags.date.strftime("%Y-%m-%d")
        if tags.link:
            opus["comment"] = tags.link
        if tags.participants:
            opus["performer"] = [f"{name} ({role})" for role, name in tags.participants]
        for number, (start, title) in enumerate(tags.chapters):
            hours, rest = divmod(start, 3600)
            stamp = f"{int(hours):02d}:{int(rest // 60):02d}:{rest % 60:06.3f}"
            opus[f"CHAPTER{number:03d}"] = stamp
            opus[f"CHAPTER{number:03d}NAME"] = title
        opus.save()


UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')


def file_name(tags: FileTags, extension: str) -> str:
    """``Host - Title (date).ext``, safe on every file system."""
    when = f" ({tags.date:%Y-%m-%d})" if tags.date is not None else ""
    name = UNSAFE.sub(" ", f"{tags.host} - {tags.title}{when}").strip(" .")
    return f"{name[:180] or 'Space'}.{extension}"
