"""Transcript search on both databases: FTS5 on SQLite, full-text search on PostgreSQL."""

from __future__ import annotations

from airspace.accounts import services as accounts
from airspace.captions.models import TranscriptSegment
from airspace.captions.search import matching_segments, replace_segments
from airspace.clock import SettableClock
from airspace.recordings import lifecycle
from airspace.spaces import services as spaces
from airspace.wiring import Services


def test_search_finds_spoken_words_and_forgets_replaced_transcripts(
    services: Services, clock: SettableClock
) -> None:
    with services.sessions() as session:
        host = accounts.register(session, "host", "pw-12345678", clock.now())
        space = spaces.create(session, host, spaces.SpaceFields(title="S"), (), clock.now())
        session.flush()
        recording = lifecycle.begin(space.id, clock.now())
        session.add(recording)
        session.flush()

        def segment(start: float, body: str) -> TranscriptSegment:
            return TranscriptSegment(
                recording_id=recording.id,
                speaker_name="Alice",
                start_seconds=start,
                end_seconds=start + 2,
                body=body,
            )

        replace_segments(
            session,
            recording.id,
            [segment(1.0, "Whales sing in the cold water."), segment(5.0, "Purple elephants!")],
        )
        session.commit()
        found = matching_segments(session, "purple ELEPHANT", 10)
        assert [s.start_seconds for s in found] == [5.0]
        assert [s.start_seconds for s in matching_segments(session, "whale singing", 10)] == [1.0]
        assert matching_segments(session, 'cold "OR" banana', 10) == []
        assert matching_segments(session, "!!! ---", 10) == []

        replace_segments(session, recording.id, [segment(8.0, "Something else entirely.")])
        session.commit()
        assert matching_segments(session, "elephants", 10) == []
        assert [s.start_seconds for s in matching_segments(session, "entirely", 10)] == [8.0]


def test_a_phrase_across_two_cues_is_found_where_it_starts(
    services: Services, clock: SettableClock
) -> None:
    with services.sessions() as session:
        host = accounts.register(session, "host", "pw-12345678", clock.now())
        space = spaces.create(session, host, spaces.SpaceFields(title="S"), (), clock.now())
        session.flush()
        recording = lifecycle.begin(space.id, clock.now())
        session.add(recording)
        session.flush()
        cues = [(1.0, "I studied dolphins in the warm waters"), (4.0, "near Portugal.")]
        replace_segments(
            session,
            recording.id,
            [
                TranscriptSegment(
                    recording_id=recording.id,
                    speaker_name="Bob",
                    start_seconds=start,
                    end_seconds=start + 3,
                    body=body,
                )
                for start, body in cues
            ],
        )
        session.commit()
        assert [s.start_seconds for s in matching_segments(session, "dolphins Portugal", 10)] == [
            1.0
        ]
        assert [s.start_seconds for s in matching_segments(session, "Portugal", 10)] == [4.0]


def test_a_recording_without_words_has_an_empty_transcript(
    services: Services, clock: SettableClock
) -> None:
    with services.sessions() as session:
        host = accounts.register(session, "host", "pw-12345678", clock.now())
        space = spaces.create(session, host, spaces.SpaceFields(title="S"), (), clock.now())
        session.flush()
        recording = lifecycle.begin(space.id, clock.now())
        session.add(recording)
        session.flush()
        replace_segments(session, recording.id, [])
        session.commit()
        assert matching_segments(session, "anything", 10) == []
