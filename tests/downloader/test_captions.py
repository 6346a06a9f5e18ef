"""``airspace download --captions``: the instance's own captions, with speakers' names,
for an Airspace Space; the offline recogniser over the file for any other source; in
WebVTT, SubRip, plain text or JSON."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from mutagen.id3 import ID3
from sqlalchemy import select

from airspace.captions.accuracy import word_error_rate
from airspace.captions.formats import cues_from_podcast_json, plain_text, render_captions, subrip
from airspace.captions.models import TranscriptSegment
from airspace.captions.search import replace_segments
from airspace.captions.transcript import Cue, podcast_transcript
from airspace.clock import SettableClock
from airspace.media.constants import SAMPLE_RATE
from airspace.media.hls_segments import segment_frames
from airspace.recordings.models import Recording
from tests.audio import aac_frames, speech
from tests.cli.test_download import run
from tests.conftest import LiveServer
from tests.downloader.hls_server import FakeServer
from tests.downloader.hls_server import Recording as HlsRecording
from tests.sharing.recorded import recorded_space

SAID = (
    "The harbour opens at six in the morning. "
    "Boats leave when the tide is high and return before the evening storm."
)
CUES = [
    Cue("Hana Moss", 0.5, 3.25, "Welcome to the harbour."),
    Cue("Hana Moss", 3.5, 5.0, "Boats leave at six."),
    Cue("Lou", 65.0, 67.5, "And come back at noon."),
]


def test_subrip_numbers_cues_and_names_speakers() -> None:
    assert subrip(CUES[:1]) == (
        "1\n00:00:00,500 --> 00:00:03,250\nHana Moss: Welcome to the harbour.\n"
    )


def test_plain_text_joins_a_speakers_cues_into_one_paragraph() -> None:
    assert plain_text(CUES) == (
        "[0:00] Hana Moss: Welcome to the harbour. Boats leave at six.\n\n"
        "[1:05] Lou: And come back at noon.\n"
    )


def test_json_and_webvtt_and_back() -> None:
    assert cues_from_podcast_json(podcast_transcript(CUES)) == CUES
    assert "<v Lou>And come back at noon." in render_captions(CUES, "vtt")
    with pytest.raises(ValueError, match="unknown captions format"):
        render_captions(CUES, "doc")


def test_any_hls_source_is_captioned_by_the_recogniser_here(
    server: FakeServer, tmp_path: Path
) -> None:
    pcm = speech(SAID)
    frames = aac_frames(pcm)
    spoken = HlsRecording(pcm, frames, segment_frames(frames, 2.0, SAMPLE_RATE), "ts")
    url = server.serve_recording(spoken)
    captions = ("--captions", "--captions-format", "srt")
    result = run(url, "-q", "-o", "harbour.%(ext)s", *captions, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "harbour.srt (captions recognised on this machine)" in result.stdout
    written = (tmp_path / "harbour.srt").read_text()
    assert written.startswith("1\n00:00:0")
    heard = " ".join(line for line in written.splitlines() if line and not line[0].isdigit())
    assert word_error_rate(SAID, heard) < 0.25, heard


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_airspace_space_gets_its_instances_captions_with_speakers(
    live_server: LiveServer, clock: SettableClock, tmp_path: Path
) -> None:
    host = live_server.register("hana")
    space_id, _ = recorded_space(live_server.base, live_server.services, clock, host, 6, "Harbour")
    with live_server.services.sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        said = TranscriptSegment(
            recording_id=recording.id,
            speaker_name="Hana Moss",
            start_seconds=0.5,
            end_seconds=3.0,
            body="Welcome to the harbour.",
        )
        replace_segments(session, recording.id, [said])
        session.commit()
    chapters = [{"start": 0, "title": "Welcome"}, {"start": 3, "title": "The boats"}]
    with httpx.Client(base_url=live_server.base, headers=host, timeout=20) as http:
        url = f"/api/v1/spaces/{space_id}/recording/chapters"
        http.put(url, json={"chapters": chapters}).raise_for_status()
    link = f"{live_server.base}/i/spaces/{space_id}"
    extras = ("--captions", "--captions-format", "txt", "--write-info-json")
    result = run(link, "-q", "-o", "%(title)s.%(ext)s", *extras, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Harbour.txt (captions from the Space's instance)" in result.stdout
    assert (tmp_path / "Harbour.txt").read_text() == "[0:00] Hana Moss: Welcome to the harbour.\n"
    # The instance's chapters are in the MP3, and everything known in the sidecar.
    tags = ID3(tmp_path / "Harbour.mp3")
    assert [frame.sub_frames["TIT2"].text[0] for frame in tags.getall("CHAP")] == [
        "Welcome",
        "The boats",
    ]
    info = json.loads((tmp_path / "Harbour.info.json").read_text())
    assert (info["title"], info["host"], info["space_id"]) == ("Harbour", "hana", space_id)
    assert info["chapters"] == [[0.0, "Welcome"], [3.0, "The boats"]]
    assert info["duration_seconds"] == pytest.approx(6.0, abs=0.05)
    assert info["link"] == link
