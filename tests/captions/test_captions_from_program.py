"""A recording made before speaker tracks were kept is captioned from its program:
each word goes to whoever was talking then."""

from __future__ import annotations

import numpy as np
import pytest

from airspace.captions.accuracy import word_error_rate
from airspace.captions.services import caption_recording, cues_of
from airspace.clock import SettableClock
from airspace.recordings.models import SpeakerTurn
from airspace.recordings.services import recording_for_space
from airspace.recordings.speaker_tracks import tracks_of
from tests.audio import speech
from tests.conftest import LiveServer
from tests.sharing.recorded import recorded_space

TEXT = "The museum will stay open late on Fridays during the summer."


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_without_tracks_the_program_is_recognised_and_words_go_by_turns(
    live_server: LiveServer, clock: SettableClock
) -> None:
    services = live_server.services
    host = live_server.register("curator")
    voice = speech(TEXT)
    pcm = np.concatenate([np.zeros(24_000, np.float32), voice, np.zeros(24_000, np.float32)])
    space_id, _ = recorded_space(
        live_server.base, services, clock, host, len(pcm) / 48_000, pcm=pcm
    )
    with services.sessions() as session:
        recording = recording_for_space(session, space_id)
        assert recording is not None
        assert tracks_of(session, recording.id) == []
        end = 0.5 + len(voice) / 48_000
        session.add(
            SpeakerTurn(
                recording_id=recording.id,
                user_id=None,
                speaker_name="Curator",
                start_seconds=0.5,
                end_seconds=end,
            )
        )
        session.commit()
        recording_id = recording.id

    assert caption_recording(services, recording_id, lambda fraction: None) >= 1
    with services.sessions() as session:
        cues = cues_of(session, recording_id)
    assert {cue.speaker for cue in cues} == {"Curator"}
    assert word_error_rate(TEXT, " ".join(cue.body for cue in cues)) <= 0.2
