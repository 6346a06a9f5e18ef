"""The options ``airspace download`` and ``airspace watch`` share: where files go and in
what format, and the credentials for private Spaces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from airspace.downloader.formats import DEFAULT_TEMPLATE, FORMATS

Command = TypeVar("Command", bound=Callable[..., Any])

output_option = click.option(
    "-o",
    "--output",
    default=DEFAULT_TEMPLATE,
    show_default=True,
    help="File name template: %(title)s %(host)s %(id)s %(date)s %(ext)s.",
)
format_option = click.option(
    "-f", "--format", "fmt", type=click.Choice(FORMATS), default="mp3", show_default=True
)
token_option = click.option("--token", help="API token for private Spaces on an Airspace instance.")


def cookies_option(help: str) -> Callable[[Command], Command]:
    return click.option("--cookies", type=click.Path(exists=True, dir_okay=False), help=help)
