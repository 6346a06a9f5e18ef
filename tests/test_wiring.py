"""Each setting picks an implementation, and every implementation satisfies its protocol."""

from __future__ import annotations

from pathlib import Path

import pytest

from airspace.clock import Clock, SettableClock, SystemClock
from airspace.errors import ConfigError
from airspace.jobs.queue import JobQueue, create_job_queue
from airspace.live.events import InProcessRoomEvents, RedisRoomEvents, RoomEvents
from airspace.media.mp3_encoders import LAME_LIBRARY_SETTING, lame_library
from airspace.storage.interfaces import Storage
from airspace.storage.local import LocalStorage
from airspace.storage.s3 import S3Storage
from airspace.wiring import Services, build_services, create_room_events, create_storage
from tests.conftest import REDIS_URL, make_settings


def test_storage_by_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    local = create_storage(f"file://{tmp_path}")
    remote = create_storage("s3://bucket?endpoint_url=http://127.0.0.1:9")
    assert isinstance(local, LocalStorage)
    assert isinstance(remote, S3Storage)
    assert isinstance(local, Storage)
    assert isinstance(remote, Storage)


def test_events_by_url() -> None:
    assert isinstance(create_room_events("memory://"), InProcessRoomEvents)
    assert isinstance(create_room_events(REDIS_URL), RedisRoomEvents)
    for events in (InProcessRoomEvents(), RedisRoomEvents(REDIS_URL)):
        assert isinstance(events, RoomEvents)


def test_queue_by_url(tmp_path: Path) -> None:
    local = create_job_queue(f"sqlite:///{tmp_path / 'jobs.db'}")
    shared = create_job_queue(REDIS_URL)
    assert local.in_process
    assert not shared.in_process
    assert isinstance(local, JobQueue)
    assert isinstance(shared, JobQueue)


def test_clocks() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(SettableClock(), Clock)


def test_services_use_the_settings(services: Services) -> None:
    assert isinstance(services.storage, LocalStorage)
    assert services.storage.root == services.settings.data_dir / "media"
    assert services.engine.url.get_backend_name() in ("sqlite", "postgresql")


def test_an_mp3_encoder_library_that_does_not_load_is_refused_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LAME_LIBRARY_SETTING, str(tmp_path / "missing-libmp3lame.so"))
    lame_library.cache_clear()
    try:
        settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'airspace.db'}")
        with pytest.raises(ConfigError, match=LAME_LIBRARY_SETTING):
            build_services(settings)
    finally:
        monkeypatch.undo()
        lame_library.cache_clear()
