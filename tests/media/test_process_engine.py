"""Rooms in worker processes behave as rooms in the server process: the same live
scenario, with the media engine spread over two worker processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from airspace.config import Settings
from airspace.media.process_engine import ProcessMediaEngine
from tests.conftest import LiveServer, make_settings
from tests.live.test_speakers import speakers_hear_each_other


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url, media_workers=2)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rooms_in_worker_processes(live_server: LiveServer) -> None:
    speakers_hear_each_other(live_server)


def test_a_started_engine_has_its_workers_running_before_any_room() -> None:
    """A server starts its media workers as it starts, so that its first room (or one a
    draining node hands it) does not wait for processes to start."""

    async def scenario() -> None:
        engine = ProcessMediaEngine(2)
        await engine.start()
        await engine.start()  # again: nothing more
        processes = engine.worker_processes()
        assert len(processes) == 2
        assert all(process.is_alive() for process in processes)
        await engine.close()
        assert not any(process.is_alive() for process in processes)

    asyncio.run(scenario())
