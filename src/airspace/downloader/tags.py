"""Tags: ID3v2 for MP3, MP4 atoms for M4A, Vorbis comments for Opus."""

from __future__ import annotations

from pathlib import Path

from mutagen.id3 import APIC, COMM, ID3, TDRC, TIT2, TPE1, WOAS
from mutagen.mp4 import MP4, MP4Cover
from mutagen.oggopus import OggOpus

from airspace.downloader.sources import SpaceInfo


def _cover_kind(data: bytes) -> tuple[str, int]:
    if data.startswith(b"\x89PNG"):
        return "image/png", MP4Cover.FORMAT_PNG
    return "image/jpeg", MP4Cover.FORMAT_JPEG


def write_tags(path: Path, fmt: str, info: SpaceInfo, cover: bytes | None) -> None:
    date = info.date.strftime("%Y-%m-%d") if info.date else None
    if fmt == "mp3":
        tags = ID3()
        tags.add(TIT2(encoding=3, text=info.title))
        tags.add(TPE1(encoding=3, text=info.host))
        if date:
            tags.add(TDRC(encoding=3, text=date))
        if info.link:
            tags.add(COMM(encoding=3, lang="eng", desc="", text=info.link))
            tags.add(WOAS(url=info.link))
        if cover:
            mime, _ = _cover_kind(cover)
            tags.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=cover))
        tags.save(path, v2_version=4)
    elif fmt == "m4a":
        mp4 = MP4(path)
        if mp4.tags is None:
            mp4.add_tags()
        mp4["\xa9nam"] = [info.title]
        mp4["\xa9ART"] = [info.host]
        if date:
            mp4["\xa9day"] = [date]
        if info.link:
            mp4["\xa9cmt"] = [info.link]
        if cover:
            mp4["covr"] = [MP4Cover(cover, imageformat=_cover_kind(cover)[1])]
        mp4.save()
    elif fmt == "opus":
        opus = OggOpus(path)
        opus["title"] = info.title
        opus["artist"] = info.host
        if date:
            opus["date"] = date
        if info.link:
            opus["comment"] = info.link
        opus.save()
