"""A finished recording made straight from generated audio: its segments stored and
listed as the live path would, without a live room (whose own recorder would write
under the same names)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import numpy as np

from airspace.accounts.models import User
from airspace.clock import SettableClock
from airspace.media.constants import AAC_FRAME_SAMPLES, SAMPLE_RATE
from airspace.media.hls_segments import mpegts_segment
from airspace.media.live_segmenter import StoredSegment
from airspace.recordings.services import add_segment, finalize
from airspace.spaces import services as spaces
from airspace.wiring import Services
from tests.downloader.hls_server import make_recording, recording_of


def recorded_space(
    base: str,
    services: Services,
    clock: SettableClock,
    host: dict[str, str],
    seconds: float,
    title: str = "Tide tables",
    pcm: np.ndarray | None = None,
) -> tuple[str, np.ndarray]:
    """A recorded Space of ``seconds`` of tone bursts (or of ``pcm``), ended and
    replayable; its id and the audio it holds."""
    generated = make_recording(seconds) if pcm is None else recording_of(pcm)
    with httpx.Client(base_url=base, headers=host, timeout=20) as http:
        created = http.post("/api/v1/spaces", json={"title": title, "record": True})
        space_id = str(created.json()["id"])
    with services.sessions() as session:
        space = spaces.get(session, space_id)
        recording = spaces.start(session, space, session.get_one(User, space.host_id), clock.now())
        assert recording is not None
        session.commit()
        recording_id, prefix = recording.id, recording.media_prefix
    position = 0
    for sequence, group in enumerate(generated.groups):
        key = f"{prefix}live/{sequence:06d}.ts"
        services.storage.put(key, mpegts_segment(group, position), "video/mp2t")
        samples = len(group) * AAC_FRAME_SAMPLES
        at = clock.now() + timedelta(seconds=position / SAMPLE_RATE)
        add_segment(services, recording_id, StoredSegment(sequence, key, position, samples, at))
        position += samples
    clock.advance(timedelta(seconds=seconds))
    with services.sessions() as session:
        hold = timedelta(days=services.settings.moderation_hold_days)
        spaces.finish(session, spaces.get(session, space_id), clock.now(), hold)
        session.commit()
    finalize(services, recording_id)
    return space_id, generated.pcm
