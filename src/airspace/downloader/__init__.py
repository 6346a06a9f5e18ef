"""The downloader: any Space link (Airspace, X, or a raw HLS playlist) to an audio file.

from airspace.downloader import download
result = download("https://x.com/i/spaces/1AbCdEfGhIjKl", format="mp3")
print(result.path, result.duration, result.warnings)
"""

from airspace.downloader.errors import DownloadError
from airspace.downloader.pipeline import DownloadResult, Progress, download

__all__ = ["DownloadError", "DownloadResult", "Progress", "download"]
