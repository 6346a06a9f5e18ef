"""Every kind of media URL x every kind of viewer x every state of a Space, over real
HTTP, on a directory and on a private S3 bucket: no cell may leak, moderators hear held
media, and links handed out before a deletion or the end of the window stop working."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urljoin

import httpx
import pytest

from airspace.accounts.models import Role, User
from airspace.clock import SettableClock
from airspace.recordings.renditions import rendition_key
from airspace.recordings.services import advance_all, recording_for_space
from tests.conftest import LiveServer

VIEWERS = ("anonymous", "stranger", "holder", "host", "moderator")
FILES = ("live.m3u8", "replay.m3u8", "replay_master.m3u8", "captions.vtt", "recording.ts")
KINDS = (*FILES, "segment", "recording.m4a", "waveform", "transcript")
CAN_HEAR = {
    "live": set(VIEWERS),
    "ticketed live": {"holder", "host", "moderator"},
    "available": set(VIEWERS),
    "ticketed": {"holder", "host", "moderator"},
    "deleted": {"moderator"},
    "expired": {"moderator"},
}
REFUSAL = {"ticketed live": 403, "ticketed": 403, "deleted": 410, "expired": 410}


def expected(state: str, viewer: str, kind: str) -> int:
    live = state.endswith("live")
    if live and kind not in ("live.m3u8", "segment"):
        return 409  # the replay does not exist yet
    return 200 if viewer in CAN_HEAR[state] else REFUSAL[state]


def media_url(kind: str, space_id: str) -> str:
    if kind in ("waveform", "transcript"):
        return f"/api/v1/spaces/{space_id}/recording/{kind}"
    return f"/i/spaces/{space_id}/{kind}"


def granted_url(http: httpx.Client, space_id: str, kind: str) -> str | None:
    """The granted address a viewer's player ends up at for ``kind``, if it is let in."""
    if kind in ("waveform", "transcript"):
        return None  # API reads: checked on every request, no grant
    entry = "live.m3u8" if kind == "segment" else kind
    reply = http.get(media_url(entry, space_id), follow_redirects=False)
    if reply.status_code != 302:
        return None
    location = urljoin(str(reply.url), reply.headers["location"])
    if kind != "segment":
        return location
    playlist = http.get(location)
    uri = next(line for line in playlist.text.splitlines() if line and not line.startswith("#"))
    return urljoin(location, uri)


def reach(http: httpx.Client, space_id: str, kind: str) -> httpx.Response:
    """Fetch ``kind`` as a player would: the page's address, then wherever it leads."""
    if kind == "segment":
        playlist = http.get(media_url("live.m3u8", space_id))
        if playlist.status_code != 200:
            return playlist
        uri = next(line for line in playlist.text.splitlines() if line and not line.startswith("#"))
        return http.get(urljoin(str(playlist.url), uri))
    return http.get(media_url(kind, space_id))


def check_cells(clients: dict[str, httpx.Client], space_id: str, state: str, s3: bool) -> list[str]:
    leaks = []
    for viewer, http in clients.items():
        for kind in KINDS:
            reply = reach(http, space_id, kind)
            want = expected(state, viewer, kind)
            cell = f"{state} x {viewer} x {kind}: {reply.status_code}, expected {want}"
            if reply.status_code != want:
                leaks.append(cell)
                continue
            if want != 200:
                assert "detail" in reply.json(), cell
                continue
            assert reply.content or kind == "captions.vtt", cell
            if kind in ("segment", "recording.m4a"):
                cache = reply.headers.get("cache-control", "") if not s3 else ""
                if state.startswith("ticketed") or state in ("deleted", "expired"):
                    assert "public" not in cache, cell
                if s3 and not state.endswith("live"):
                    # The private bucket, reached with a short-lived signature (while
                    # live, the newest segments come from the server's memory).
                    assert "Signature=" in str(reply.url), cell
    return leaks


@pytest.fixture
def clients(live_server: LiveServer) -> Iterator[dict[str, httpx.Client]]:
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    for viewer in VIEWERS[1:]:
        headers[viewer] = live_server.register(viewer)
    with live_server.services.sessions() as session:
        session.query(User).filter_by(username="moderator").one().role = Role.MODERATOR
        session.commit()
    with ExitStack() as stack:
        yield {
            viewer: stack.enter_context(
                httpx.Client(
                    base_url=live_server.base, headers=h, timeout=20, follow_redirects=True
                )
            )
            for viewer, h in headers.items()
        }


def wait_for_replay(live_server: LiveServer, space_id: str) -> None:
    """Until the recording is available and its M4A file is made (by the real jobs)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with live_server.services.sessions() as session:
            recording = recording_for_space(session, space_id)
            assert recording is not None
            if recording.state.value == "available" and live_server.services.storage.exists(
                rendition_key(recording, "m4a")
            ):
                return
        time.sleep(0.2)
    raise AssertionError(f"the replay of {space_id} was not ready in time")


def test_no_cell_of_the_media_access_matrix_leaks(
    live_server: LiveServer, clients: dict[str, httpx.Client], clock: SettableClock
) -> None:
    host = clients["host"]
    # One host runs the three Spaces of the matrix at once.
    services = live_server.services
    services.settings = replace(services.settings, live_spaces_per_host=3)
    spaces = {}
    for name, fields in (
        ("public", {}),
        ("ticketed", {"ticket_capacity": 5}),
        ("deleted", {}),
    ):
        reply = host.post("/api/v1/spaces", json={"title": name, "record": True, **fields})
        spaces[name] = reply.json()["id"]
    holder_ticket = clients["holder"].post(f"/api/v1/spaces/{spaces['ticketed']}/tickets", json={})
    assert holder_ticket.is_success
    for space_id in spaces.values():
        assert host.post(f"/api/v1/spaces/{space_id}/start").status_code == 200
    time.sleep(2.5)  # the first segment of each program is stored
    s3 = live_server.services.storage.file_path("spaces/x") is None

    leaks = check_cells(clients, spaces["public"], "live", s3)
    leaks += check_cells(clients, spaces["ticketed"], "ticketed live", s3)
    live_grant = granted_url(host, spaces["public"], "live.m3u8")
    assert live_grant is not None

    for space_id in spaces.values():
        assert host.post(f"/api/v1/spaces/{space_id}/end").status_code == 200
    for space_id in spaces.values():
        wait_for_replay(live_server, space_id)
    leaks += check_cells(clients, spaces["public"], "available", s3)
    leaks += check_cells(clients, spaces["ticketed"], "ticketed", s3)

    # Links handed out while a recording was listenable.
    before_delete = {k: granted_url(host, spaces["deleted"], k) for k in KINDS}
    before_expiry = {k: granted_url(host, spaces["public"], k) for k in KINDS}
    assert host.delete(f"/api/v1/spaces/{spaces['deleted']}/recording").status_code == 204
    leaks += check_cells(clients, spaces["deleted"], "deleted", s3)
    for kind, url in before_delete.items():
        if url is not None:
            reply = clients["anonymous"].get(url, follow_redirects=False)
            assert reply.status_code == 410, (kind, reply.text)
            assert reply.json() == {"detail": "this recording is no longer available"}

    clock.advance(timedelta(days=30, seconds=1))
    advance_all(live_server.services)
    leaks += check_cells(clients, spaces["public"], "expired", s3)
    for kind, url in [*before_expiry.items(), ("live.m3u8", live_grant)]:
        if url is not None:
            reply = clients["anonymous"].get(url, follow_redirects=False)
            assert reply.status_code == 403, (kind, reply.text)
            assert "expired" in reply.json()["detail"]
    assert leaks == []
