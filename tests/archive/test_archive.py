"""The data archive: a zip with the account, its Spaces, each held recording as one
.ts that decodes to the recording's length, transcripts and clips; one build at a time;
downloaded by its owner only, through a grant that lasts the archive's week; gone when
a recording it copied is purged."""

from __future__ import annotations

import io
import json
import time
import zipfile
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from airspace.captions.models import TranscriptSegment
from airspace.clock import SettableClock
from airspace.media.constants import SAMPLE_RATE
from airspace.recordings.models import Recording
from airspace.recordings.services import advance_all
from tests.audio import decode
from tests.conftest import LiveServer, register
from tests.sharing.recorded import recorded_space
from tests.sharing.test_clips import wait_for_clip


def wait_for_archive(http: httpx.Client) -> dict[str, object]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        archive: dict[str, object] = http.get("/api/v1/me/archive").json()
        if archive["state"] != "building":
            return archive
        time.sleep(0.2)
    raise AssertionError(f"the archive was not made: {archive}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_archive_holds_the_accounts_data_and_goes_with_its_recordings(
    live_server: LiveServer, clock: SettableClock
) -> None:
    services = live_server.services
    host = live_server.register("ana")
    other = live_server.register("bob")
    space_id, _ = recorded_space(live_server.base, services, clock, host, 14)
    with services.sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        duration = float(recording.duration_seconds or 0)
        session.add(
            TranscriptSegment(
                recording_id=recording.id,
                speaker_name="ana",
                start_seconds=1.0,
                end_seconds=3.0,
                body="Tides come twice a day.",
            )
        )
        session.commit()
    with (
        httpx.Client(base_url=live_server.base, headers=host, timeout=20) as http,
        httpx.Client(base_url=live_server.base, headers=other, timeout=20) as stranger,
    ):
        assert http.get("/api/v1/me/archive").status_code == 404
        made = http.post(
            f"/api/v1/spaces/{space_id}/clips", json={"start": 2, "end": 8, "title": "Tides"}
        ).json()
        clip = wait_for_clip(http, made["id"])
        assert clip["state"] == "ready", (clip["error"], clip["job"])
        asked = http.post("/api/v1/me/archive")
        assert asked.status_code == 202
        archive = wait_for_archive(http)
        assert archive["state"] == "ready", archive
        notes = http.get("/api/v1/me/notifications").json()["items"]
        assert notes[0]["message"] == "Your data archive is ready to download (for 7 days)."

        door = http.get("/settings/archive/download")
        assert door.status_code == 302
        link = door.headers["location"]
        answer = http.get(link)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/zip"
        assert 'attachment; filename="airspace-data.zip"' in answer.headers["content-disposition"]
        assert len(answer.content) == archive["size"]
        assert stranger.get("/settings/archive/download").status_code == 404

        zf = zipfile.ZipFile(io.BytesIO(answer.content))
        names = set(zf.namelist())
        assert {
            "README.txt",
            "data/account.json",
            "data/spaces.json",
            "data/clips.json",
            f"data/spaces_media/{space_id}_0.ts",
            f"data/transcripts/{space_id}.vtt",
            f"data/transcripts/{space_id}.json",
            f"data/clips/{made['id']}.m4a",
        } == names
        assert json.loads(zf.read("data/account.json"))["username"] == "ana"
        [space] = json.loads(zf.read("data/spaces.json"))
        assert space["recording"]["media"] == f"spaces_media/{space_id}_0.ts"
        audio, _ = decode(zf.read(f"data/spaces_media/{space_id}_0.ts"), format="mpegts")
        assert len(audio) / SAMPLE_RATE == pytest.approx(duration, abs=0.001)
        assert (
            "<v ana>Tides come twice a day." in zf.read(f"data/transcripts/{space_id}.vtt").decode()
        )
        clip_audio, _ = decode(zf.read(f"data/clips/{made['id']}.m4a"))
        assert len(clip_audio) == round(6.0 * SAMPLE_RATE / 1024) * 1024

        # Purging the recording removes every file made from it, the archive included.
        before = services.storage.list("")
        assert any(key.startswith(f"spaces/{space_id}/clips/") for key in before)
        assert any(key.startswith(f"spaces/{archive['id']}/archive/") for key in before)
        clock.advance(timedelta(days=121))
        advance_all(services)
        after = services.storage.list("")
        assert [key for key in after if key.startswith(f"spaces/{space_id}/")] == []
        assert [key for key in after if key.startswith(f"spaces/{archive['id']}/")] == []
        assert http.get("/api/v1/me/archive").json()["state"] == "gone"
        with services.sessions() as session:  # and the captions with their search index
            kept = select(TranscriptSegment).where(TranscriptSegment.recording_id == recording.id)
            assert session.scalars(kept).all() == []
        assert http.get(link).status_code in (403, 410)


def test_one_archive_is_built_at_a_time(client: TestClient) -> None:
    user = register(client, "ana")
    assert client.post("/api/v1/me/archive", headers=user).status_code == 202
    again = client.post("/api/v1/me/archive", headers=user)
    assert again.status_code == 409
    assert "already being made" in again.json()["detail"]
    assert client.post("/api/v1/me/archive").status_code == 401
