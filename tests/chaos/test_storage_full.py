"""The media volume fills up under a live recorded Space: the Space goes on, segments wait
in memory, and once there is room again every one of them is stored, in order; the
recording lasts what the Space lasted and becomes available."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from airspace.config import Settings
from airspace.recordings.models import Recording
from airspace.recordings.services import segments_of
from tests.chaos.filesystems import fill, tiny_filesystem
from tests.conftest import LiveServer, make_settings
from tests.recordings.test_replay import wait_until_available

FULL_SECONDS = 5.0


@pytest.fixture
def media_volume(tmp_path: Path) -> Iterator[Path]:
    with tiny_filesystem(tmp_path / "volume", size="16m") as volume:
        yield volume


@pytest.fixture
def settings(tmp_path: Path, database_url: str, media_volume: Path) -> Settings:
    return make_settings(tmp_path, database_url, storage_url=f"file://{media_volume}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_full_media_volume_mid_space_loses_nothing(
    live_server: LiveServer, media_volume: Path
) -> None:
    host = live_server.register("host")
    space_id = live_server.create_space(host, record=True)
    with httpx.Client(
        follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
    ) as http:
        before_start = time.monotonic()
        http.post(f"/api/v1/spaces/{space_id}/start").raise_for_status()
        started = time.monotonic()
        time.sleep(4.5)
        filler = fill(media_volume)  # the disk is full: segments cannot be written
        time.sleep(FULL_SECONDS)
        assert http.get(f"/api/v1/spaces/{space_id}").json()["state"] == "live"  # it goes on
        filler.unlink()
        time.sleep(3)  # room again: the segments that waited are stored first
        ending = time.monotonic()
        http.post(f"/api/v1/spaces/{space_id}/end").raise_for_status()
        ended = time.monotonic()
        recording = wait_until_available(http, space_id, seconds=30)
    with live_server.services.sessions() as session:
        stored = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        segments = segments_of(session, stored.id)
    assert [s.sequence for s in segments] == list(range(len(segments)))
    for before, after in itertools.pairwise(segments):
        assert after.first_sample == before.first_sample + before.samples
    assert all(live_server.services.storage.exists(s.key) for s in segments)
    duration = float(str(recording["duration_seconds"]))
    assert duration == pytest.approx((segments[-1].first_sample + segments[-1].samples) / 48_000)
    # As long as the Space was live, the full disk's seconds included.
    assert ending - started - 0.5 <= duration <= ended - before_start + 0.5
