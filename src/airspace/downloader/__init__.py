"""The downloader: any Space link (Airspace, X, or a raw HLS playlist) to an audio file.

from airspace.downloader import download
result = download("https://x.com/i/spaces/1AbCdEfGhIjKl", format="mp3")
print(result.path, result.duration, result.warnings)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airspace.downloader.errors import DownloadError
from airspace.downloader.progress import Progress

if TYPE_CHECKING:
    from airspace.downloader.pipeline import DownloadResult, download

__all__ = ["DownloadError", "DownloadResult", "Progress", "download"]


def __getattr__(name: str) -> Any:
    # The pipeline is imported on first use: the command line starts its fork server
    # before paying for those imports.
    if name in ("DownloadResult", "download"):
        from airspace.downloader import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
