"""``airspace watch``: a host's Spaces recorded one after another as they start, a
command run on each file, and a watcher that stops cleanly and records nothing twice."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from airspace.downloader.errors import SpacePrivate, UnsupportedURL
from airspace.downloader.pipeline import DownloadOptions
from airspace.downloader.watch import STATE_FILE, WatchedXAccount, Watcher, watched_host
from airspace.downloader.x import XConfig
from airspace.media.peer import SpeakerPeer, tone
from tests.audio import band_share, decode
from tests.conftest import LiveServer
from tests.downloader.hls_server import FakeServer, Reply, Request
from tests.downloader.test_sources import SPACE_ID, fake_x
from tests.live.test_speakers import connect_microphone


def test_only_profile_links_are_watched() -> None:
    host = watched_host("https://spaces.example/@hana/")
    assert (host.origin, host.username) == ("https://spaces.example", "hana")
    with pytest.raises(UnsupportedURL, match="profile link"):
        watched_host("https://spaces.example/i/spaces/AAAAAAAAAAAAA")


def wait_for(check: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.2)


@pytest.mark.slow  # a live Space or a growing playlist, seconds of real time
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_two_spaces_of_one_host_are_recorded_in_a_row(
    live_server: LiveServer, tmp_path: Path
) -> None:
    host = live_server.register("hana")
    lines: list[str] = []
    marker = "import pathlib, sys; pathlib.Path(sys.argv[1] + '.seen').touch()"
    watcher = Watcher(
        [watched_host(f"{live_server.base}/@hana")],
        DownloadOptions(output_template="%(title)s.%(ext)s", format="m4a"),
        tmp_path,
        lines.append,
        poll_seconds=0.3,
        on_saved=[sys.executable, "-c", marker, "{}"],
    )
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    watching = threading.Thread(target=lambda: loop.run_until_complete(watcher.run(stop)))
    watching.start()

    async def space(title: str, pitch: float) -> None:
        space_id = live_server.create_space(host, record=True, title=title)
        async with httpx.AsyncClient(base_url=live_server.base, headers=host, timeout=20) as http:
            (await http.post(f"/api/v1/spaces/{space_id}/start")).raise_for_status()
            await http.post(f"/api/v1/spaces/{space_id}/room/join")
            peer = SpeakerPeer(tone(pitch))
            await connect_microphone(http, space_id, peer)
            await asyncio.sleep(4)
            await peer.close()
            await http.post(f"/api/v1/spaces/{space_id}/end")

    try:
        for title, pitch in (("Morning", 440.0), ("Evening", 880.0)):
            asyncio.run(space(title, pitch))
            wait_for(lambda t=title: (tmp_path / f"{t}.m4a.seen").exists(), f"{title}.m4a")
            audio, rate = decode(tmp_path / f"{title}.m4a")
            assert len(audio) / rate > 3.5
            assert band_share(audio[rate : 3 * rate], pitch) > 0.5
    finally:
        loop.call_soon_threadsafe(stop.set)
        watching.join(timeout=30)
    assert sum("is live: 'Morning'" in line for line in lines) == 1
    assert any(line.startswith("saved ") and "Evening.m4a" in line for line in lines)
    assert lines[-1] == "stopped"
    assert "Morning" not in (tmp_path / STATE_FILE).read_text()  # ids, not titles
    assert len(watcher.recorded) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_command_stops_cleanly_on_ctrl_c(live_server: LiveServer, tmp_path: Path) -> None:
    live_server.register("hana")
    watching = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airspace",
            "watch",
            f"{live_server.base}/@hana",
            "--poll",
            "0.5",
            "-f",
            "m4a",
            "-d",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2)
    watching.send_signal(signal.SIGINT)
    out, err = watching.communicate(timeout=30)
    assert watching.returncode == 0, err
    assert "watching @hana on 127.0.0.1" in out
    assert out.rstrip().endswith("stopped")
    refused = subprocess.run(
        [sys.executable, "-m", "airspace", "watch", "https://x.test/i/spaces/AAAAAAAAAAAAA"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode == 3
    assert refused.stderr.startswith("Error: not a host to watch")


def test_x_account_links_are_watched() -> None:
    for link in (
        "https://x.com/grace",
        "https://mobile.twitter.com/grace/",
        "https://x.com/@grace",
        "https://www.twitter.com/grace",
        "https://fxtwitter.com/grace",
    ):
        assert watched_host(link) == WatchedXAccount("grace")
    with pytest.raises(UnsupportedURL, match="not an X account"):
        watched_host("https://x.com/i/spaces/1AbCdEfGhIjKl")
    with pytest.raises(UnsupportedURL, match="not an X account"):
        watched_host("https://x.com/explore")


def test_watching_an_x_account_needs_a_log_in(tmp_path: Path) -> None:
    with pytest.raises(SpacePrivate, match="needs --cookies"):
        Watcher([WatchedXAccount("grace")], DownloadOptions(), tmp_path, print)


def test_an_x_accounts_space_is_recorded_once(server: FakeServer, tmp_path: Path) -> None:
    fake_x(server)
    account = "783214"

    def user(request: Request) -> Reply:
        variables = json.loads(parse_qs(request.query)["variables"][0])
        assert variables["screen_name"] == "grace"
        body = {"data": {"user": {"result": {"rest_id": account}}}}
        return Reply(200, json.dumps(body).encode(), "application/json")

    def avatar_content(request: Request) -> Reply:
        assert parse_qs(request.query)["user_ids"] == [account]
        assert "auth_token=" in {k.lower(): v for k, v in request.headers.items()}["cookie"]
        live = {"audiospace": {"broadcast_id": SPACE_ID, "title": "X talk"}}
        body = {"users": {account: {"spaces": {"live_content": live}}}}
        return Reply(200, json.dumps(body).encode(), "application/json")

    server.routes["/graphql/xmU6X_CKVnQ5lSrCbAmJsg/UserByScreenName"] = user
    server.routes["/fleets/v1/avatar_content"] = avatar_content
    cookies = tmp_path / "cookies.txt"
    cookies.write_text(".x.com\tTRUE\t/\tTRUE\t0\tauth_token\t" + "a" * 40 + "\n")
    lines: list[str] = []
    options = DownloadOptions(
        output_template="%(title)s.%(ext)s",
        format="m4a",
        cookies_file=str(cookies),
        x=XConfig(api_url=server.url),
        workers=2,
    )
    watcher = Watcher(
        [watched_host("https://x.com/grace")], options, tmp_path, lines.append, poll_seconds=0.2
    )
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    watching = threading.Thread(target=lambda: loop.run_until_complete(watcher.run(stop)))
    watching.start()
    try:
        wait_for(lambda: any(line.startswith("saved ") for line in lines), "the recording")
        polls = server.hits["/fleets/v1/avatar_content"]
        wait_for(lambda: server.hits["/fleets/v1/avatar_content"] >= polls + 3, "more looks")
    finally:
        loop.call_soon_threadsafe(stop.set)
        watching.join(timeout=30)
    assert lines[0] == f"watching @grace on X; a Space they start is recorded to {tmp_path}"
    assert [line for line in lines if "is live" in line] == [
        f"@grace on X is live (https://x.com/i/spaces/{SPACE_ID}); recording"
    ]
    audio, rate = decode(tmp_path / "X talk.m4a")
    assert len(audio) / rate == pytest.approx(9.0, abs=0.05)
    assert server.hits["/graphql/xmU6X_CKVnQ5lSrCbAmJsg/UserByScreenName"] == 1
    assert json.loads((tmp_path / STATE_FILE).read_text())["recorded"] == [SPACE_ID]
