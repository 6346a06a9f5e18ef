"""``airspace``: serve, worker, db upgrade, user create."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import click

from airspace import __version__
from airspace.cli.download import download as download_command
from airspace.cli.exit import EXIT_CONFIG
from airspace.cli.watch import watch as watch_command
from airspace.errors import AirspaceError, ConfigError

if TYPE_CHECKING:
    from airspace.wiring import Services


class CliError(click.ClickException):
    """One line on stderr (``Error: ...``), and exit code 1."""


class ConfigurationError(CliError):
    """A setting that cannot be used: exit code 2."""

    exit_code = EXIT_CONFIG


def load_services(*, check_schema: bool = True) -> Services:
    """Settings and services from the environment; misconfiguration exits with code 2."""
    # Imported here: `airspace download` and `--help` start without the server's parts.
    from airspace.config import Settings
    from airspace.db.engine import check_connection
    from airspace.db.migrate import is_up_to_date
    from airspace.wiring import build_services

    try:
        services = build_services(Settings.from_env())
        check_connection(services.engine)
    except ConfigError as exc:
        raise ConfigurationError(str(exc)) from None
    if check_schema and not is_up_to_date(services.engine):
        raise ConfigurationError("the database schema is out of date; run: airspace db upgrade")
    return services


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="airspace")
def cli() -> None:
    """Airspace: live audio Spaces that are recorded, replayed, captioned and downloaded.

    Settings come from AIRSPACE_* environment variables (see the README).
    """
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def log_progress() -> None:
    """Long-running commands report what they do; one-shot commands stay quiet."""
    for name in ("airspace", "huey"):
        logging.getLogger(name).setLevel(logging.INFO)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def serve(host: str, port: int) -> None:
    """Run the web app and API (and, on the embedded default, the job consumer)."""
    import uvicorn

    from airspace.app import create_app
    from airspace.delivery.access_log import quiet_served_media
    from airspace.delivery.http_protocol import server_config

    log_progress()
    quiet_served_media()
    services = load_services()
    app = create_app(services, run_jobs=True)
    config = server_config(
        app, app.fast_path, host=host, port=port, proxy_headers=True, log_level="info"
    )
    uvicorn.Server(config).run()


@cli.command()
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Jobs (finalizing, captions, renditions) run at once by this process.",
)
@click.option(
    "--download-workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Downloads run at once by this process (on a queue of their own).",
)
@click.option(
    "--lane",
    type=click.Choice(["all", "jobs", "downloads"]),
    default="all",
    show_default=True,
    help="Which queue to consume: run downloads on machines of their own with 'downloads'.",
)
def worker(workers: int, download_workers: int, lane: str) -> None:
    """Consume background jobs from the shared queue (AIRSPACE_QUEUE_URL=redis://...)."""
    from airspace.jobs.registry import DOWNLOADS_LANE, JOBS_LANE
    from airspace.jobs.tasks import requeue_stalled_runs

    log_progress()
    services = load_services()
    if services.jobs.in_process:
        click.echo(
            "note: AIRSPACE_QUEUE_URL is a local SQLite queue; `airspace serve` already "
            "consumes it. Use redis://... to spread jobs over workers.",
            err=True,
        )
    lanes = {JOBS_LANE: workers, DOWNLOADS_LANE: download_workers}
    if lane != "all":
        lanes = {lane: lanes[lane]}
    requeue_stalled_runs(services)  # what a worker killed before this one was doing
    services.jobs.run_consumer(lanes)


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the newest version."""
    from airspace.db.migrate import current_revision, upgrade

    services = load_services(check_schema=False)
    upgrade(services.engine)
    click.echo(f"database at revision {current_revision(services.engine)}")


@cli.group()
def user() -> None:
    """User accounts."""


@user.command("create")
@click.argument("name")
@click.option("--admin", "role", flag_value="admin", help="Make an administrator.")
@click.option("--moderator", "role", flag_value="moderator", help="Make a moderator.")
@click.option("--display-name", default=None, help="Name shown to others (default: NAME).")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for when not given.",
)
@click.option(
    "--token",
    "token_name",
    default=None,
    help="Also create an API token with this name and print it.",
)
def user_create(
    name: str, role: str | None, display_name: str | None, password: str, token_name: str | None
) -> None:
    """Create the user NAME (role: user unless --admin or --moderator)."""
    from airspace.accounts import services as accounts
    from airspace.accounts.models import Role

    services = load_services()
    now = services.clock.now()
    try:
        with services.sessions() as session:
            account = accounts.register(
                session, name, password, now, display_name=display_name, role=Role(role or "user")
            )
            secret = None
            if token_name:
                _, secret = accounts.create_api_token(session, account, token_name, now)
            session.commit()
    except AirspaceError as exc:
        raise CliError(exc.detail) from None
    click.echo(f"created {account.role.value} {account.username}")
    if secret:
        click.echo(f"API token: {secret}")


cli.add_command(download_command)
cli.add_command(watch_command)


def main() -> None:
    cli.main(prog_name="airspace", standalone_mode=True)
