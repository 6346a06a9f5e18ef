"""``airspace download``: paste a Space link, get an MP3."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TYPE_CHECKING

import click

from airspace.cli.download_captions import CAPTION_FORMATS, captions_beside
from airspace.cli.exit import EXIT_CONFIG
from airspace.cli.file_options import cookies_option, format_option, output_option, token_option
from airspace.downloader.child_processes import start_fork_server
from airspace.downloader.errors import EXIT_CODES, EXIT_COMPLETED_WITH_GAPS, DownloadError
from airspace.errors import ConfigError

if TYPE_CHECKING:
    from rich.progress import TaskID

    from airspace.downloader.progress import Progress as DownloadProgress

EXIT_INTERRUPTED = 130


def _exit_codes_help() -> str:
    lines = [f"  {code:>3}  {meaning}" for code, meaning in sorted(EXIT_CODES.items())]
    lines.append(f"  {EXIT_INTERRUPTED:>3}  interrupted (run the same command again to resume)")
    return "\b\nExit codes:\n" + "\n".join(lines)


def check_mp3_encoder() -> None:
    """Load the MP3 encoder now: a library named in a setting that does not load is a
    one-line error before anything is fetched."""
    from airspace.errors import ConfigError
    from airspace.media.mp3_encoders import lame_library

    try:
        lame_library()
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_CONFIG)


def _megabytes(count: float) -> str:
    return f"{count / 1e6:.1f} MB"


class ProgressBar:
    """A rich progress bar over the whole job (fetching and converting), with segments,
    bytes, speed and time left.

    It is drawn when the download reports progress, at most ten times a second, rather
    than by rich's refresh thread: a process with no other thread starts its fetching
    processes by forking itself (see ``downloader/child_processes.py``)."""

    REFRESH_SECONDS = 0.1

    def __init__(self) -> None:
        # Imported here: a quiet download starts without it.
        from rich.progress import (
            BarColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("[bold]{task.fields[stage]:<11}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[segments]}  {task.fields[bytes]}  {task.fields[rate]}"),
            TimeRemainingColumn(),
            auto_refresh=False,
        )
        self.task: TaskID | None = None
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.drawn_stage = ""

    def __call__(self, state: DownloadProgress) -> None:
        if self.task is None:
            self.bar.start()
            self.task = self.bar.add_task(
                "download", total=None, stage="", segments="", bytes="", rate=""
            )
        elapsed = max(time.monotonic() - self.started, 1e-3)
        self.bar.update(
            self.task,
            # Whole-job progress, in thousandths: fetching and converting count half each.
            total=1000,
            completed=round(1000 * state.fraction),
            stage=state.stage,
            segments=state.waiting_for or f"{state.segments_done}/{state.segments_total} segments",
            bytes=_megabytes(state.bytes_done),
            rate=f"{_megabytes(state.bytes_done / elapsed)}/s",
        )
        now = time.monotonic()
        if now - self.drawn_at >= self.REFRESH_SECONDS or state.stage != self.drawn_stage:
            self.bar.refresh()
            self.drawn_at = now
            self.drawn_stage = state.stage

    def stop(self) -> None:
        if self.task is not None:
            self.bar.refresh()
            self.bar.stop()


@click.command(epilog=_exit_codes_help())
@click.argument("url")
@output_option
@format_option
@click.option(
    "--concurrency",
    default=8,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Segments fetched at once.",
)
@click.option(
    "--live",
    is_flag=True,
    help="Record a live Space from now to its end, then add the earlier part.",
)
@click.option(
    "--wait",
    is_flag=True,
    help="A scheduled Space: wait for it (with a countdown) and record it live from its "
    "first second to its end.",
)
@cookies_option("Netscape cookies.txt of a logged-in browser (X).")
@click.option(
    "--replay-wait",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0),
    metavar="MINUTES",
    help="How long to keep asking for a Space's replay that is not published yet.",
)
@token_option
@click.option(
    "--captions",
    is_flag=True,
    help="Also write captions beside the audio: the instance's own (with speakers' names) "
    "for an Airspace Space, else recognised on this machine.",
)
@click.option(
    "--captions-format",
    type=click.Choice(CAPTION_FORMATS),
    default="vtt",
    show_default=True,
    help="WebVTT, SubRip, plain text with times, or Podcasting 2.0 JSON.",
)
@click.option(
    "--write-info-json",
    is_flag=True,
    help="Also write everything known about the Space (title, host, date, link, duration...) "
    "to a .info.json file beside the audio.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def download(
    url: str,
    output: str,
    fmt: str,
    concurrency: int,
    live: bool,
    wait: bool,
    cookies: str | None,
    replay_wait: float,
    token: str | None,
    captions: bool,
    captions_format: str,
    write_info_json: bool,
    quiet: bool,
) -> None:
    """Download the recording of a Space as one audio file.

    URL is an Airspace Space link (page, share or embed link, from any instance), an
    X/Twitter Space link, or an HLS playlist. An interrupted download resumes when the
    same command is run again.
    """
    # The fetching, encoding and converting processes come from the fork server (see
    # child_processes.py), which starts on another core while this process imports the
    # downloader and resolves the link.
    start_fork_server()
    if fmt == "mp3":
        check_mp3_encoder()
    from airspace.downloader.pipeline import DownloadOptions, download_async

    options = DownloadOptions(
        output_template=output,
        format=fmt,
        concurrency=concurrency,
        live=live,
        wait=wait,
        cookies_file=cookies,
        token=token,
        replay_wait=replay_wait * 60,
    )
    bar = ProgressBar() if not quiet and sys.stderr.isatty() else None
    try:
        result = asyncio.run(download_async(url, options, bar))
    except DownloadError as exc:
        if bar:
            bar.stop()
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    except ValueError as exc:  # a bad output template
        raise click.UsageError(str(exc)) from None
    except KeyboardInterrupt:
        if bar:
            bar.stop()
        click.echo("Interrupted; run the same command again to resume.", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if bar:
        bar.stop()
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    minutes, seconds = divmod(result.duration, 60)
    click.echo(f"{result.path} ({int(minutes)}:{seconds:06.3f})")
    if captions:
        try:
            written, origin = captions_beside(result, captions_format, quiet)
        except ConfigError as exc:  # no speech model here
            click.echo(f"Error: {exc}", err=True)
            sys.exit(EXIT_CONFIG)
        click.echo(f"{written} (captions {origin})")
    if write_info_json:
        from airspace.downloader.info_json import write_info_json as write_info

        click.echo(f"{write_info(result, url, fmt)} (what is known about the Space)")
    if result.warnings:
        sys.exit(EXIT_COMPLETED_WITH_GAPS)
