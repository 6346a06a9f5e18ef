"""Rooms in worker processes behave as rooms in the server process: the same live
scenario, with the media engine spread over two worker processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from airspace.config import Settings
from tests.conftest import LiveServer, make_settings
from tests.live.test_speakers import speakers_hear_each_other


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, media_workers=2)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rooms_in_worker_processes(live_server: LiveServer) -> None:
    speakers_hear_each_other(live_server)
