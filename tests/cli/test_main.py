from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from airspace import __version__
from airspace.cli.main import cli


def run_airspace(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airspace", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {"AIRSPACE_DATA_DIR": str(tmp_path), "AIRSPACE_DATABASE_URL": database_url}


def test_version() -> None:
    result = run_airspace("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"airspace, version {__version__}"


@pytest.mark.parametrize(
    "command", [[], ["serve"], ["worker"], ["db"], ["db", "upgrade"], ["user"], ["user", "create"]]
)
def test_every_command_has_help(command: list[str]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage: " in result.output


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://localhost/x", "unsupported database 'mysql'"),
        ("not a url", "not a database URL"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot connect"),
    ],
)
def test_unusable_database_url_is_one_line_and_exit_2(
    tmp_path: Path, url: str, reason: str
) -> None:
    result = run_airspace(
        "db", "upgrade", env={"AIRSPACE_DATA_DIR": str(tmp_path), "AIRSPACE_DATABASE_URL": url}
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: AIRSPACE_DATABASE_URL: ")
    assert reason in lines[0]


def test_other_misconfiguration_exits_2(tmp_path: Path) -> None:
    result = run_airspace(
        "serve", env={"AIRSPACE_DATA_DIR": str(tmp_path), "AIRSPACE_QUEUE_URL": "amqp://x"}
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "Error: AIRSPACE_QUEUE_URL: unsupported URL 'amqp://x'; use one of redis://, rediss://, sqlite://"
    )


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = run_airspace("serve", env={"AIRSPACE_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "run: airspace db upgrade" in result.stderr


def test_db_upgrade_then_user_create(tmp_path: Path) -> None:
    env = {"AIRSPACE_DATA_DIR": str(tmp_path)}
    upgraded = run_airspace("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "database at revision" in upgraded.stdout
    assert (tmp_path / "airspace.db").exists()
    again = run_airspace("db", "upgrade", env=env)
    assert again.returncode == 0
    created = run_airspace(
        "user",
        "create",
        "root_admin",
        "--admin",
        "--password",
        "pw-12345678",
        "--token",
        "cli",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    assert "created admin root_admin" in created.stdout
    assert "API token: as_" in created.stdout
    duplicate = run_airspace("user", "create", "root_admin", "--password", "pw-12345678", env=env)
    assert duplicate.returncode == 1
    assert duplicate.stderr.strip() == "Error: the username 'root_admin' is taken"


def test_user_create_prompts_for_the_password(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(
        cli, ["user", "create", "mod", "--moderator"], input="pw-12345678\npw-12345678\n"
    )
    assert result.exit_code == 0, result.output
    assert "created moderator mod" in result.output
    short = CliRunner().invoke(cli, ["user", "create", "eve", "--password", "short"])
    assert short.exit_code == 1
    assert "password must be" in short.output
