"""Downloads of a replay: MP3, M4A, WAV and the .ts, for the host and for listeners when
the host allows it, named ``Host - Title (date).ext`` and tagged alike — title, host,
date, link, cover, chapters (ID3 CHAP/CTOC in MP3, a chapter list in M4A)."""

from __future__ import annotations

import time
from urllib.parse import unquote

import av
import httpx
import pytest
from mutagen.id3 import ID3
from mutagen.mp4 import MP4
from sqlalchemy import select

from airspace.clock import SettableClock
from airspace.media.constants import SAMPLE_RATE
from airspace.recordings.models import Recording, SpeakerTurn
from tests.conftest import LiveServer
from tests.sharing.recorded import recorded_space

NAME = "ana - Tide tables (2026-11-21)"


def made(http: httpx.Client, space_id: str, fmt: str) -> None:
    url = f"/api/v1/spaces/{space_id}/recording/renditions"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = http.post(url, json={"format": fmt})
        assert answer.status_code in (200, 202), answer.text
        if answer.json()["status"] == "ready":
            return
        time.sleep(0.2)
    raise AssertionError(f"the {fmt} file was not made")


def saved_as(answer: httpx.Response) -> str:
    header = answer.headers["content-disposition"]
    assert header.startswith("attachment;")
    return unquote(header.split("filename*=UTF-8''")[1])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_files_to_keep_are_named_tagged_and_for_whom_the_host_allows(
    live_server: LiveServer, clock: SettableClock
) -> None:
    services = live_server.services
    host = live_server.register("ana")
    fan = live_server.register("bob")
    space_id, pcm = recorded_space(live_server.base, services, clock, host, 12)
    with services.sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        length = round((recording.duration_seconds or 0) * SAMPLE_RATE)
        assert abs(length - len(pcm)) < 1024  # the recording holds whole AAC frames
        for name, start, end in (("ana", 0.5, 5.0), ("bob", 5.5, 11.0)):
            session.add(
                SpeakerTurn(
                    recording_id=recording.id,
                    user_id=None,
                    speaker_name=name,
                    start_seconds=start,
                    end_seconds=end,
                )
            )
        session.commit()
    folder = services.settings.data_dir
    with (
        httpx.Client(base_url=live_server.base, headers=host, follow_redirects=True) as http,
        httpx.Client(base_url=live_server.base, headers=fan, follow_redirects=True) as listener,
    ):
        # The host's own chapters, so the files have more than one.
        chapters = [{"start": 0, "title": "Hello"}, {"start": 5.5, "title": "Bob on tides"}]
        http.put(f"/api/v1/spaces/{space_id}/recording/chapters", json={"chapters": chapters})
        for fmt in ("mp3", "m4a", "wav"):
            made(http, space_id, fmt)
            answer = http.get(f"/i/spaces/{space_id}/download.{fmt}")
            assert answer.status_code == 200, answer.text
            assert saved_as(answer) == f"{NAME}.{fmt}"
            path = folder / f"download.{fmt}"
            path.write_bytes(answer.content)
            with av.open(str(path)) as container:
                samples = sum(f.samples for f in container.decode(audio=0))
            if fmt != "m4a":  # (an M4A decodes to whole AAC frames; its index says the rest)
                assert samples == length, fmt
        tags = ID3(folder / "download.mp3")
        assert str(tags["TIT2"]) == "Tide tables"
        assert str(tags["TPE1"]) == "ana"
        assert str(tags["TDRC"]) == "2026-11-21"
        assert tags.getall("APIC")[0].mime == "image/png"
        marks = sorted((c.start_time, str(c.sub_frames["TIT2"])) for c in tags.getall("CHAP"))
        assert marks == [(0, "Hello"), (5500, "Bob on tides")]
        assert tags.getall("CTOC")[0].child_element_ids == ["chp0", "chp1"]
        m4a = MP4(folder / "download.m4a")
        assert m4a["\xa9nam"] == ["Tide tables"]
        assert m4a["\xa9ART"] == ["ana"]
        assert [(round(c.start, 3), c.title) for c in m4a.chapters] == [
            (0, "Hello"),
            (5.5, "Bob on tides"),
        ]
        assert m4a.info.length == pytest.approx(length / SAMPLE_RATE, abs=0.001)
        ts = http.get(f"/i/spaces/{space_id}/download.ts")
        assert saved_as(ts) == f"{NAME}.ts"

        # Listeners may play the M4A, but keep files only when the host allows it.
        for fmt in ("mp3", "m4a", "wav", "ts"):
            assert listener.get(f"/i/spaces/{space_id}/download.{fmt}").status_code == 403
        refused = listener.post(
            f"/api/v1/spaces/{space_id}/recording/renditions", json={"format": "mp3"}
        )
        assert refused.json()["detail"] == (
            "the host has not allowed listeners to download this recording"
        )
        assert listener.get(f"/i/spaces/{space_id}/recording.m4a").status_code == 200
        http.patch(f"/api/v1/spaces/{space_id}/recording", json={"downloads_allowed": True})
        assert listener.get(f"/i/spaces/{space_id}/download.mp3").status_code == 200
