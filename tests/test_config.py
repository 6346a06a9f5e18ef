from __future__ import annotations

from pathlib import Path

import pytest

from airspace.config import DEFAULT_TOPICS, Settings
from airspace.errors import ConfigError


def test_embedded_defaults_live_under_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"AIRSPACE_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'airspace.db'}"
    assert settings.storage_url == f"file://{tmp_path / 'media'}"
    assert settings.queue_url == f"sqlite:///{tmp_path / 'jobs.db'}"
    assert settings.events_url == "memory://"
    assert settings.topics == DEFAULT_TOPICS
    assert settings.replay_days == 30


def test_secret_key_is_kept_across_starts(tmp_path: Path) -> None:
    first = Settings.from_env({"AIRSPACE_DATA_DIR": str(tmp_path)}).secret_key
    second = Settings.from_env({"AIRSPACE_DATA_DIR": str(tmp_path)}).secret_key
    assert first == second
    assert len(first) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_each_node_keeps_its_id_or_is_given_one(tmp_path: Path) -> None:
    first = Settings.from_env({"AIRSPACE_DATA_DIR": str(tmp_path)}).node_id
    assert first.startswith("node-")
    assert Settings.from_env({"AIRSPACE_DATA_DIR": str(tmp_path)}).node_id == first
    given = {"AIRSPACE_DATA_DIR": str(tmp_path), "AIRSPACE_NODE_ID": "api-2"}
    assert Settings.from_env(given).node_id == "api-2"
    with pytest.raises(ConfigError, match="AIRSPACE_NODE_ID"):
        Settings.from_env({**given, "AIRSPACE_NODE_ID": "two words"})


def test_topics_are_configurable(tmp_path: Path) -> None:
    settings = Settings.from_env({"AIRSPACE_DATA_DIR": str(tmp_path), "AIRSPACE_TOPICS": "A, B ,C"})
    assert settings.topics == ("A", "B", "C")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AIRSPACE_STORAGE_URL", "ftp://x", "AIRSPACE_STORAGE_URL: unsupported URL"),
        ("AIRSPACE_QUEUE_URL", "amqp://x", "AIRSPACE_QUEUE_URL: unsupported URL"),
        ("AIRSPACE_EVENTS_URL", "kafka://x", "AIRSPACE_EVENTS_URL: unsupported URL"),
        ("AIRSPACE_REPLAY_DAYS", "soon", "AIRSPACE_REPLAY_DAYS: expected a whole number"),
        ("AIRSPACE_REPLAY_DAYS", "0", "AIRSPACE_REPLAY_DAYS: must be at least 1"),
        ("AIRSPACE_COOKIE_SECURE", "maybe", "AIRSPACE_COOKIE_SECURE: expected true or false"),
        ("AIRSPACE_TOPICS", " , ", "AIRSPACE_TOPICS"),
    ],
)
def test_bad_settings_name_the_variable(
    tmp_path: Path, name: str, value: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({"AIRSPACE_DATA_DIR": str(tmp_path), name: value})


def test_ice_servers_and_turn_credentials_come_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "AIRSPACE_DATA_DIR": str(tmp_path),
            "AIRSPACE_ICE_SERVERS": "stun:turn.example:3478, turn:turn.example:3478?transport=udp",
            "AIRSPACE_TURN_SECRET": "shh",
            "AIRSPACE_TURN_TTL_SECONDS": "600",
        }
    )
    assert settings.ice.stun == ("stun:turn.example:3478",)
    assert settings.ice.turn == ("turn:turn.example:3478?transport=udp",)
    assert (settings.ice.turn_secret, settings.ice.ttl_seconds) == ("shh", 600)
    assert Settings.from_env({"AIRSPACE_DATA_DIR": str(tmp_path)}).ice.urls == ()


@pytest.mark.parametrize(
    ("servers", "reason"),
    [
        ("http://turn.example", "not a stun:, stuns:, turn: or turns: URL"),
        ("turn:turn.example", "set AIRSPACE_TURN_SECRET"),
    ],
)
def test_unusable_ice_settings_are_one_line(tmp_path: Path, servers: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        Settings.from_env({"AIRSPACE_DATA_DIR": str(tmp_path), "AIRSPACE_ICE_SERVERS": servers})
