"""``airspace download --wait``: a scheduled Space is waited for, with a countdown, and
recorded from its first second to its end."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from airspace.clock import SettableClock
from airspace.downloader import download
from airspace.downloader.errors import NotRecorded
from airspace.downloader.pipeline import DownloadResult
from airspace.downloader.progress import Progress
from airspace.downloader.waiting import countdown
from airspace.media.peer import SpeakerPeer, tone
from tests.audio import decode
from tests.conftest import LiveServer
from tests.live.test_speakers import connect_microphone


def test_the_countdown_reads_as_people_say_it() -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    assert countdown(now + timedelta(minutes=4, seconds=10), now) == "starts in 4:10"
    assert countdown(now + timedelta(hours=2, minutes=5), now) == "starts in 2 h 5 min"
    assert countdown(now - timedelta(seconds=30), now) == "due to start: waiting for the host"
    assert countdown(None, now) == "waiting for the host to start the Space"


@pytest.mark.slow  # a live Space or a growing playlist, seconds of real time
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_scheduled_space_is_recorded_from_its_first_second(
    live_server: LiveServer, clock: SettableClock, tmp_path: Path
) -> None:
    host = live_server.register("host")
    # The countdown runs on this machine's clock (the server's is the tests' own).
    starts = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    space_id = live_server.create_space(
        host, record=True, title="Waited for", scheduled_start=starts
    )
    link = f"{live_server.base}/i/spaces/{space_id}"
    said: list[str] = []
    finished: list[DownloadResult] = []

    def heard(state: Progress) -> None:
        if state.waiting_for and state.waiting_for not in said:
            said.append(state.waiting_for)

    waiting = threading.Thread(
        target=lambda: finished.append(
            download(
                link,
                str(tmp_path / "%(title)s.%(ext)s"),
                wait=True,
                wait_poll_seconds=0.5,
                progress=heard,
            )
        )
    )
    waiting.start()
    deadline = time.monotonic() + 20
    while not said:
        assert time.monotonic() < deadline, "the download never said it was waiting"
        time.sleep(0.1)

    async def live_part() -> None:
        async with httpx.AsyncClient(base_url=live_server.base, headers=host, timeout=20) as http:
            (await http.post(f"/api/v1/spaces/{space_id}/start")).raise_for_status()
            await http.post(f"/api/v1/spaces/{space_id}/room/join")
            peer = SpeakerPeer(tone(660))
            await connect_microphone(http, space_id, peer)
            await asyncio.sleep(6)
            await peer.close()
            await http.post(f"/api/v1/spaces/{space_id}/end")

    asyncio.run(live_part())
    waiting.join(timeout=240)  # the end, then the replay to join the first seconds from
    assert finished, "the download did not finish"
    assert said[0].startswith("starts in ")  # the countdown, from the Space's schedule
    with httpx.Client(base_url=live_server.base, timeout=20) as http:
        deadline = time.monotonic() + 60
        while http.get(f"/api/v1/spaces/{space_id}/recording").json()["state"] != "available":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        recorded = http.get(f"/api/v1/spaces/{space_id}/recording").json()["playable_seconds"]
    result = finished[0]
    assert result.complete
    assert result.duration == pytest.approx(recorded, abs=0.1)
    audio, rate = decode(result.path)
    assert len(audio) / rate == pytest.approx(recorded, abs=0.1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_space_canceled_while_waited_for_is_one_line(
    live_server: LiveServer, tmp_path: Path
) -> None:
    host = live_server.register("host")
    space_id = live_server.create_space(host, record=True, title="Never")
    with httpx.Client(base_url=live_server.base, headers=host, timeout=20) as http:
        http.post(f"/api/v1/spaces/{space_id}/cancel").raise_for_status()
    with pytest.raises(NotRecorded, match="canceled"):
        download(f"{live_server.base}/i/spaces/{space_id}", str(tmp_path / "x.%(ext)s"), wait=True)
