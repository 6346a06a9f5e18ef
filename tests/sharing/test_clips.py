"""Clips: 5 to 60 seconds of a replay, cut to the sample as M4A and MP3, with square and
portrait audiograms (H.264 + AAC) that decode to the clip's exact length; refused to
whom may not replay or was blocked, or when the host turned clipping off; hidden with
their recording and purged with it."""

from __future__ import annotations

import time
from datetime import timedelta

import av
import httpx
import numpy as np
import pytest

from airspace.clock import SettableClock
from airspace.media.constants import SAMPLE_RATE
from airspace.recordings.services import advance_all
from tests.audio import decode
from tests.conftest import LiveServer
from tests.sharing.recorded import recorded_space


def wait_for_clip(http: httpx.Client, clip_id: str) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        clip: dict[str, object] = http.get(f"/api/v1/clips/{clip_id}").json()
        if clip["state"] != "making":
            return clip
        time.sleep(0.2)
    raise AssertionError(f"the clip was not made: {clip}")


def best_lag(needle: np.ndarray, haystack: np.ndarray) -> int:
    """Where ``needle`` sits in ``haystack``, by cross-correlation."""
    size = 1 << int(np.ceil(np.log2(len(haystack) + len(needle))))
    spectrum = np.fft.rfft(haystack, size) * np.conj(np.fft.rfft(needle, size))
    return int(np.argmax(np.fft.irfft(spectrum, size)[: len(haystack)]))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_clip_is_cut_to_the_sample_with_its_audiograms(
    live_server: LiveServer, clock: SettableClock
) -> None:
    services = live_server.services
    host = live_server.register("ana")
    fan = live_server.register("bob")
    space_id, pcm = recorded_space(live_server.base, services, clock, host, 16)
    with (
        httpx.Client(base_url=live_server.base, headers=host, timeout=20) as owner,
        httpx.Client(
            base_url=live_server.base, headers=fan, follow_redirects=True, timeout=20
        ) as http,
    ):
        owner.patch(f"/api/v1/spaces/{space_id}/recording", json={"start_offset_seconds": 2.0})
        made = http.post(
            f"/api/v1/spaces/{space_id}/clips",
            json={"start": 3.0, "end": 9.0, "title": "The tide turns"},
        )
        assert made.status_code == 201, made.text
        assert made.json()["state"] == "making"
        clip = wait_for_clip(http, str(made.json()["id"]))
        assert clip["state"] == "ready", clip
        length = float(clip["duration_seconds"])  # type: ignore[arg-type]
        assert length == pytest.approx(6.0, abs=0.011)
        assert clip["start_seconds"] == 3.0
        files = clip["files"]
        assert isinstance(files, dict)

        expected = pcm[5 * SAMPLE_RATE :][: round(length * SAMPLE_RATE)]
        for fmt in ("m4a", "mp3"):
            audio, rate = decode(http.get(files[fmt]).content)
            assert rate == SAMPLE_RATE
            assert len(audio) == len(expected), fmt  # exactly the clip's samples
            lag = best_lag(audio[SAMPLE_RATE : 3 * SAMPLE_RATE], expected)
            assert lag == pytest.approx(SAMPLE_RATE, abs=2), fmt  # and the right ones
        for size, (width, height) in (("square", (1080, 1080)), ("portrait", (1080, 1920))):
            video = http.get(files[f"audiogram_{size}"])
            assert video.headers["content-type"] == "video/mp4"
            path = services.settings.data_dir / f"{size}.mp4"
            path.write_bytes(video.content)
            with av.open(str(path)) as container:
                frames = [(f.width, f.height) for f in container.decode(video=0)]
            with av.open(str(path)) as container:
                samples = sum(f.samples for f in container.decode(audio=0))
                codecs = {s.type: s.codec_context.name for s in container.streams}
            assert codecs == {"video": "h264", "audio": "aac"}
            assert set(frames) == {(width, height)}
            assert len(frames) == pytest.approx(length * 15, abs=1)
            assert samples == round(length * SAMPLE_RATE)
        assert http.get(f"/i/clips/{clip['id']}/captions.vtt").text.startswith("WEBVTT")

        # Deleting the recording hides the clip; purging removes its files and itself.
        assert owner.delete(f"/api/v1/spaces/{space_id}/recording").status_code == 204
        assert http.get(f"/api/v1/clips/{clip['id']}").status_code == 410
        assert http.get(files["m4a"]).status_code == 410
        prefix = f"spaces/{space_id}/clips/"
        assert len(services.storage.list(prefix)) == 4
        clock.advance(timedelta(days=121))
        advance_all(services)
        assert services.storage.list(prefix) == []
        assert http.get(f"/api/v1/clips/{clip['id']}").status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_clip_refusals(live_server: LiveServer, clock: SettableClock) -> None:
    services = live_server.services
    host = live_server.register("ana")
    fan = live_server.register("bob")
    blocked = live_server.register("eve")
    space_id, _ = recorded_space(live_server.base, services, clock, host, 12)
    url = f"/api/v1/spaces/{space_id}/clips"
    with (
        httpx.Client(base_url=live_server.base, headers=host, timeout=20) as owner,
        httpx.Client(base_url=live_server.base, headers=fan, timeout=20) as http,
        httpx.Client(base_url=live_server.base, timeout=20) as anonymous,
    ):

        def refused(client: httpx.Client, body: dict[str, object], status: int) -> str:
            answer = client.post(url, json={"title": "A clip", **body})
            assert answer.status_code == status, answer.text
            return str(answer.json()["detail"])

        assert refused(http, {"start": 0, "end": 4}, 422) == "a clip lasts 5 to 60 seconds"
        assert refused(http, {"start": 0, "end": 61}, 422) == "a clip lasts 5 to 60 seconds"
        assert "within the replay" in refused(http, {"start": 8, "end": 14}, 422)
        assert refused(anonymous, {"start": 0, "end": 6}, 401)
        owner.put("/api/v1/me/blocks/eve")
        blocked_client = httpx.Client(base_url=live_server.base, headers=blocked, timeout=20)
        with blocked_client:
            detail = refused(blocked_client, {"start": 0, "end": 6}, 403)
        assert detail == "the host has blocked you, so you cannot clip their Spaces"
        owner.patch(f"/api/v1/spaces/{space_id}/recording", json={"clips_allowed": False})
        assert refused(http, {"start": 0, "end": 6}, 403) == (
            "the host has turned clipping off for this recording"
        )
        assert owner.post(url, json={"title": "Mine", "start": 0, "end": 6}).status_code == 201


def test_clip_lengths_are_whole_aac_frames_within_bounds() -> None:
    from airspace.sharing.clips import LONGEST, SHORTEST, exact_length

    for asked in (SHORTEST, 6.0, 30.01, LONGEST):
        length = exact_length(asked)
        assert SHORTEST <= length <= LONGEST
        assert round(length * SAMPLE_RATE) % 1024 == 0
        assert abs(length - asked) < 1024 / SAMPLE_RATE
