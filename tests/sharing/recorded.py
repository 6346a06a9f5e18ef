"""A finished recording made straight from generated audio: its segments stored and
listed as the live path would, without a live room."""

from __future__ import annotations

from datetime import timedelta

import httpx
import numpy as np
from sqlalchemy import select

from airspace.clock import SettableClock
from airspace.media.constants import AAC_FRAME_SAMPLES, SAMPLE_RATE
from airspace.media.hls_segments import mpegts_segment
from airspace.media.live_segmenter import StoredSegment
from airspace.recordings.models import Recording
from airspace.recordings.services import add_segment, finalize
from airspace.wiring import Services
from tests.downloader.hls_server import make_recording


def recorded_space(
    base: str, services: Services, clock: SettableClock, host: dict[str, str], seconds: float
) -> tuple[str, np.ndarray]:
    """A recorded Space of ``seconds`` of tone bursts, ended and replayable; its id and
    the audio it holds."""
    generated = make_recording(seconds)
    with httpx.Client(base_url=base, headers=host, timeout=20) as http:
        space_id = str(
            http.post("/api/v1/spaces", json={"title": "Tide tables", "record": True}).json()["id"]
        )
        http.post(f"/api/v1/spaces/{space_id}/start").raise_for_status()
        with services.sessions() as session:
            recording = session.scalars(
                select(Recording).where(Recording.space_id == space_id)
            ).one()
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
        http.post(f"/api/v1/spaces/{space_id}/end").raise_for_status()
    finalize(services, recording_id)
    return space_id, generated.pcm
