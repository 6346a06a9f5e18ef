"""Recovery after a crash, on both databases: segments that reached storage but not the
recording's list (the instant before the crash) are found and listed in order."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from sqlalchemy import select

from airspace.accounts import services as accounts
from airspace.clock import SettableClock
from airspace.live.recorder import live_prefix
from airspace.live.recovery import recover_interrupted
from airspace.media.live_segmenter import LiveSegmenter, StoredSegment
from airspace.recordings.models import Recording, RecordingState
from airspace.recordings.services import add_segment, segments_of
from airspace.spaces import services as spaces
from airspace.spaces.models import Space, SpaceState
from airspace.wiring import Services


def test_recovery_lists_segments_stored_but_not_listed(
    services: Services, clock: SettableClock
) -> None:
    with services.sessions() as session:
        host = accounts.register(session, "host", "pw-12345678", clock.now())
        space = spaces.create(
            session, host, spaces.SpaceFields(title="Crash", record=True), ("News",), clock.now()
        )
        recording = spaces.start(session, space, host, clock.now())
        session.commit()
        assert recording is not None
        space_id, recording_id = space.id, recording.id

    listed: list[StoredSegment] = []

    def list_the_first_two(segment: StoredSegment, data: bytes) -> None:
        if segment.sequence < 2:
            add_segment(services, recording_id, segment)
            listed.append(segment)

    segmenter = LiveSegmenter(
        services.storage, live_prefix(space_id), clock.now(), on_segment=list_the_first_two
    )
    segmenter.push(np.zeros(48_000 * 9, dtype=np.float32))  # four whole segments stored
    stored = [s.key for s in segmenter.segments]
    assert len(stored) == 4
    assert len(listed) == 2
    clock.advance(timedelta(seconds=9))

    assert recover_interrupted(services, hosted=set()) == [space_id]

    with services.sessions() as session:
        assert session.get_one(Space, space_id).state is SpaceState.ENDED
        recording = session.scalars(select(Recording).where(Recording.id == recording_id)).one()
        assert recording.state in (RecordingState.PROCESSING, RecordingState.AVAILABLE)
        rows = segments_of(session, recording_id)
    assert [r.key for r in rows] == stored
    assert [(r.first_sample, r.samples) for r in rows] == [
        (s.first_sample, s.samples) for s in segmenter.segments
    ]
    assert recover_interrupted(services, hosted=set()) == []  # nothing left to recover


def test_recovery_leaves_hosted_rooms_alone_and_cleans_unrecorded_ones(
    services: Services, clock: SettableClock
) -> None:
    with services.sessions() as session:
        host = accounts.register(session, "host", "pw-12345678", clock.now())
        hosted = spaces.create(session, host, spaces.SpaceFields(title="Here"), (), clock.now())
        lost = spaces.create(session, host, spaces.SpaceFields(title="Lost"), (), clock.now())
        for space in (hosted, lost):
            spaces.start(session, space, host, clock.now())
        session.commit()
        hosted_id, lost_id = hosted.id, lost.id
    services.storage.put(live_prefix(lost_id) + "000000.ts", b"\x47" * 188)

    assert recover_interrupted(services, hosted={hosted_id}) == [lost_id]
    with services.sessions() as session:
        assert session.get_one(Space, hosted_id).state is SpaceState.LIVE
        assert session.get_one(Space, lost_id).state is SpaceState.ENDED
    assert services.storage.list(live_prefix(lost_id)) == []
