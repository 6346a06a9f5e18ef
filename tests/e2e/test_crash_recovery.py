"""A server killed (SIGKILL) during a recorded Space: on the next start the Space is
ended and its recording holds every segment that reached storage before the kill."""

from __future__ import annotations

import itertools
import signal
import sqlite3
import time
from pathlib import Path

import httpx

from tests.audio import decode
from tests.e2e.processes import serve


def stored_segments(data_dir: Path, space_id: str) -> list[str]:
    live = data_dir / "media" / "spaces" / space_id / "live"
    return sorted(f"spaces/{space_id}/live/{p.name}" for p in live.glob("*.ts"))


def test_a_killed_server_ends_the_space_and_keeps_every_stored_segment(tmp_path: Path) -> None:
    process, base = serve(tmp_path)
    try:
        with httpx.Client(follow_redirects=True, base_url=base, timeout=10) as http:
            session = http.post(
                "/api/v1/auth/register", json={"username": "host", "password": "pw-12345678"}
            )
            csrf = {"X-CSRF-Token": session.json()["csrf_token"]}
            space_id = http.post(
                "/api/v1/spaces", json={"title": "Crash", "record": True}, headers=csrf
            ).json()["id"]
            http.post(f"/api/v1/spaces/{space_id}/start", headers=csrf).raise_for_status()
            time.sleep(5)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
    stored = stored_segments(tmp_path, space_id)
    assert len(stored) >= 2

    process, base = serve(tmp_path)
    try:
        with httpx.Client(follow_redirects=True, base_url=base, timeout=10) as http:
            space = http.get(f"/api/v1/spaces/{space_id}").json()
            assert space["state"] == "ended"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                recording = http.get(f"/api/v1/spaces/{space_id}/recording").json()
                if recording["state"] == "available":
                    break
                time.sleep(0.2)
            assert recording["state"] == "available", recording
            playlist = http.get(f"/i/spaces/{space_id}/live.m3u8").text
            assert playlist.rstrip().endswith("#EXT-X-ENDLIST")
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)

    with sqlite3.connect(tmp_path / "airspace.db") as db:
        rows = db.execute(
            "SELECT s.sequence, s.key, s.first_sample, s.samples FROM recording_segments s "
            "JOIN recordings r ON r.id = s.recording_id WHERE r.space_id = ? "
            "ORDER BY s.sequence",
            (space_id,),
        ).fetchall()
    assert [key for _, key, _, _ in rows] == stored
    assert [sequence for sequence, _, _, _ in rows] == list(range(len(stored)))
    for (_, _, first, samples), (_, _, after, _) in itertools.pairwise(rows):
        assert after == first + samples
    media = tmp_path / "media"
    decoded = sum(len(decode(media / key, format="mpegts")[0]) for _, key, _, _ in rows)
    assert decoded == sum(samples for _, _, _, samples in rows)
    assert recording["duration_seconds"] == sum(s for _, _, _, s in rows) / 48_000
