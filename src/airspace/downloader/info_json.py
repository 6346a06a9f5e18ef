"""``--write-info-json``: everything known about a downloaded Space, in a sidecar file
beside the audio (as yt-dlp's ``.info.json``, for archives and scripts)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from airspace.downloader.pipeline import DownloadResult


def info_path(audio: Path) -> Path:
    """``Host - Title (date).mp3`` → ``Host - Title (date).info.json``."""
    return audio.with_suffix(".info.json")


def space_info(result: DownloadResult, url: str, format: str) -> dict[str, Any]:
    known = asdict(result.info) if result.info is not None else {}
    date = known.get("date")
    return {
        **known,
        "date": date.isoformat() if date is not None else None,
        "title": result.title,
        "host": result.host,
        "source_url": url,
        "file": result.path.name,
        "format": format,
        "duration_seconds": round(result.duration, 3),
        "complete": result.complete,
        "warnings": result.warnings,
    }


def write_info_json(result: DownloadResult, url: str, format: str) -> Path:
    path = info_path(result.path)
    document = space_info(result, url, format)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
