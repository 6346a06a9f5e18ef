"""``airspace download --captions``: the captions file written beside the audio, from the
Space's instance when it has them, else recognised here with a progress bar."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from airspace.captions.formats import CAPTION_FORMATS

if TYPE_CHECKING:
    from airspace.downloader.pipeline import DownloadResult

__all__ = ["CAPTION_FORMATS", "captions_beside"]


def captions_beside(result: DownloadResult, format: str, quiet: bool) -> tuple[Path, str]:
    """Write the captions of ``result`` beside it; their path and where they came from."""
    from airspace.downloader.captions import instance_cues, recognized_cues, write_captions

    cues = asyncio.run(instance_cues(result))
    if cues is not None:
        return write_captions(result.path, cues, format), "from the Space's instance"
    from airspace.captions.recognizer import WhisperRecognizer

    model = os.environ.get("AIRSPACE_ASR_MODEL")
    recognizer = WhisperRecognizer(Path(model) if model else None)
    show = not quiet and sys.stderr.isatty()
    if not show:
        cues = recognized_cues(result.path, recognizer)
    else:
        from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn

        bar = Progress(
            "[bold]captioning",
            BarColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            auto_refresh=False,
        )
        with bar:
            task = bar.add_task("captions", total=1.0)

            def advance(fraction: float) -> None:
                bar.update(task, completed=fraction)
                bar.refresh()

            cues = recognized_cues(result.path, recognizer, advance)
            advance(1.0)
    return write_captions(result.path, cues, format), "recognised on this machine"
