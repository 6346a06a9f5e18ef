"""The speech recogniser's model: found on disk, named clearly when it is not, and a
broken one fails the captions job without holding back the replay."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import httpx
import numpy as np
import pytest

from airspace.captions.recognizer import WhisperRecognizer, default_model_path
from airspace.config import Settings
from airspace.errors import ConfigError
from tests.conftest import LiveServer


def test_the_default_model_loads_from_its_package() -> None:
    recognizer = WhisperRecognizer()
    assert recognizer.model_path == default_model_path()
    assert recognizer.transcribe(np.zeros(16_000, dtype=np.float32)) == []


def test_a_model_setting_that_holds_no_model_is_named(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"AIRSPACE_DATA_DIR": str(tmp_path), "AIRSPACE_ASR_MODEL": str(tmp_path / "nothing")}
    )
    assert settings.asr_model == tmp_path / "nothing"
    with pytest.raises(ConfigError, match="AIRSPACE_ASR_MODEL: no faster-whisper model"):
        WhisperRecognizer(settings.asr_model)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_failing_caption_job_does_not_hold_back_the_replay(
    live_server: LiveServer, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-model"
    shutil.copytree(default_model_path(), broken)
    (broken / "model.bin").write_bytes(b"not a model")
    live_server.services.recognizer = WhisperRecognizer(broken)
    host = live_server.register("host")
    space_id = live_server.create_space(host, record=True)
    with httpx.Client(
        follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
    ) as http:
        http.post(f"/api/v1/spaces/{space_id}/start").raise_for_status()
        time.sleep(2.5)
        http.post(f"/api/v1/spaces/{space_id}/end").raise_for_status()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            recording = http.get(f"/api/v1/spaces/{space_id}/recording").json()
            captions = recording["captions"] or {}
            if recording["state"] == "available" and captions.get("error"):
                break
            time.sleep(0.2)
        assert recording["state"] == "available"
        assert captions["status"] in ("queued", "failed")  # retried with backoff, then failed
        assert captions["error"]
        assert http.get(f"/i/spaces/{space_id}/replay.m3u8").status_code == 200
