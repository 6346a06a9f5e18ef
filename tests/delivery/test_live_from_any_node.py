"""Listeners of a recorded live Space can be served by a node that does not hold its room:
the playlist comes from the database, the segments from storage, under the same grants."""

from __future__ import annotations

import time
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient

from airspace.app import create_app
from airspace.wiring import Services
from tests.conftest import register


@pytest.mark.parametrize("settings", ["local"], indirect=True)
def test_another_node_serves_the_live_playlist_and_segments(
    client: TestClient, services: Services
) -> None:
    host = register(client, "host")
    space_id = client.post(
        "/api/v1/spaces", json={"title": "Live", "record": True}, headers=host
    ).json()["id"]
    assert client.post(f"/api/v1/spaces/{space_id}/start", headers=host).status_code == 200
    time.sleep(4.5)  # two segments are stored and listed on the recording
    here = client.get(f"/i/spaces/{space_id}/live.m3u8")
    # A second node: the same database and storage, no rooms of its own (its lifespan,
    # which would recover Spaces it thinks were left live, is not run here).
    elsewhere = TestClient(create_app(services))
    playlist = elsewhere.get(f"/i/spaces/{space_id}/live.m3u8")
    assert playlist.status_code == 200
    assert "#EXT-X-ENDLIST" not in playlist.text
    uris = [line for line in playlist.text.splitlines() if line.startswith("live/")]
    assert uris
    assert set(uris) <= set(here.text.splitlines()) | {"live/000002.ts"}
    for uri in uris:
        segment = elsewhere.get(urljoin(str(playlist.url), uri))
        assert segment.status_code == 200
        assert segment.content == services.storage.get(f"spaces/{space_id}/{uri}")
    # A grant issued by one node opens the same media on the other.
    assert elsewhere.get(str(here.url)).status_code == 200
