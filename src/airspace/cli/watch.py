"""``airspace watch``: follow hosts and record each Space they start."""

from __future__ import annotations

import asyncio
import shlex
import signal
import sys
from datetime import datetime
from pathlib import Path

import click

from airspace.cli.download import check_mp3_encoder
from airspace.cli.file_options import cookies_option, format_option, output_option, token_option
from airspace.downloader.child_processes import start_fork_server
from airspace.downloader.errors import DownloadError


def _log(line: str) -> None:
    click.echo(f"{datetime.now():%Y-%m-%d %H:%M:%S}  {line}")


@click.command()
@click.argument("urls", nargs=-1, required=True, metavar="PROFILE_URL...")
@click.option(
    "-d",
    "--directory",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the recordings (and the watch's memory of them) go.",
)
@output_option
@format_option
@click.option(
    "--poll",
    default=15.0,
    show_default=True,
    type=click.FloatRange(0.2),
    metavar="SECONDS",
    help="How often each host is asked whether they are live.",
)
@click.option(
    "--exec",
    "exec_command",
    help='A command run on each finished file, e.g. "rsync -a {} backup:/spaces/" '
    "({} is the file; without it the file is added at the end).",
)
@token_option
@cookies_option(
    "cookies.txt (Netscape format) from a browser logged in to X: needed to watch X "
    "accounts, which X tells only logged-in accounts about."
)
def watch(
    urls: tuple[str, ...],
    directory: Path,
    output: str,
    fmt: str,
    poll: float,
    exec_command: str | None,
    token: str | None,
    cookies: str | None,
) -> None:
    """Follow hosts (Airspace profile links, https://instance/@username, or X accounts,
    https://x.com/handle, with --cookies) and record every Space they start, from the
    moment it is seen live to its end, with a log line per event. Ctrl-C stops; watching
    again records nothing twice and resumes what was cut."""
    from airspace.downloader.pipeline import DownloadOptions
    from airspace.downloader.watch import Watcher, watched_host

    options = DownloadOptions(output_template=output, format=fmt, token=token, cookies_file=cookies)
    on_saved = shlex.split(exec_command) if exec_command else []
    try:
        hosts = [watched_host(url) for url in urls]
        watcher = Watcher(hosts, options, directory, _log, poll_seconds=poll, on_saved=on_saved)
    except DownloadError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(exc.exit_code)
    start_fork_server()
    if fmt == "mp3":
        check_mp3_encoder()

    async def watching() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await watcher.run(stop)

    asyncio.run(watching())
