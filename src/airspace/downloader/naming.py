"""Output file names from a template, made safe for every file system."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from airspace.downloader.sources import SpaceInfo

FIELDS = ("title", "host", "id", "date", "ext")
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
MAX_NAME_BYTES = 200


def safe_name(text: str) -> str:
    """One path component: no separators or characters Windows refuses, no leading dots."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("_", text)
    text = " ".join(text.split()).strip(" .")
    encoded = text.encode("utf-8")[:MAX_NAME_BYTES]
    return encoded.decode("utf-8", errors="ignore").strip(" .") or "download"


def render(template: str, info: SpaceInfo, ext: str) -> Path:
    """Fill ``%(field)s`` placeholders; each value is made safe, so a title cannot add
    directories. Directories written in the template itself are kept."""
    values = {
        "title": info.title,
        "host": info.host,
        "id": info.space_id or "space",
        "date": info.date.strftime("%Y-%m-%d") if info.date else "undated",
        "ext": ext,
    }
    try:
        filled = template % {key: safe_name(value) for key, value in values.items()}
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(
            f"bad output template {template!r} ({exc}); fields: "
            + ", ".join(f"%({f})s" for f in FIELDS)
        ) from None
    path = Path(filled)
    parts = [p for p in path.parts[:-1] if p not in ("", ".")]
    if ".." in parts:
        raise ValueError("the output template may not climb out with '..'")
    return Path(*parts, safe_name(path.name)) if parts else Path(safe_name(path.name))
