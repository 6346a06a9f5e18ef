"""Transcript search on both databases: FTS5 on SQLite, full-text search on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from airspace.accounts import services as accounts
from airspace.captions.models import TranscriptSegment
from airspace.captions.search import matching_segments, replace_segments
from airspace.clock import SettableClock
from airspace.recordings import lifecycle
from airspace.spaces import services as spaces
from airspace.wiring import Services


@pytest.fixture
def session(services: Services) -> Iterator[Session]:
    with services.sessions() as opened:
        yield opened


@pytest.fixture
def recording_id(session: Session, clock: SettableClock) -> int:
    host = accounts.register(session, "host", "pw-12345678", clock.now())
    space = spaces.create(session, host, spaces.SpaceFields(title="S"), (), clock.now())
    session.flush()
    recording = lifecycle.begin(space.id, clock.now())
    session.add(recording)
    session.flush()
    return recording.id


def transcribe(session: Session, recording_id: int, cues: list[tuple[float, str]]) -> None:
    replace_segments(
        session,
        recording_id,
        [
            TranscriptSegment(
                recording_id=recording_id,
                speaker_name="Alice",
                start_seconds=start,
                end_seconds=start + 3,
                body=body,
            )
            for start, body in cues
        ],
    )
    session.commit()


def starts(session: Session, query: str) -> list[float]:
    return [s.start_seconds for s in matching_segments(session, query, 10)]


def test_search_finds_spoken_words_and_forgets_replaced_transcripts(
    session: Session, recording_id: int
) -> None:
    transcribe(
        session, recording_id, [(1.0, "Whales sing in the cold water."), (5.0, "Purple elephants!")]
    )
    assert starts(session, "purple ELEPHANT") == [5.0]
    assert starts(session, "whale singing") == [1.0]
    assert starts(session, 'cold "OR" banana') == []
    assert starts(session, "!!! ---") == []

    transcribe(session, recording_id, [(8.0, "Something else entirely.")])
    assert starts(session, "elephants") == []
    assert starts(session, "entirely") == [8.0]


def test_a_phrase_across_two_cues_is_found_where_it_starts(
    session: Session, recording_id: int
) -> None:
    transcribe(
        session,
        recording_id,
        [(1.0, "I studied dolphins in the warm waters"), (4.0, "near Portugal.")],
    )
    assert starts(session, "dolphins Portugal") == [1.0]
    assert starts(session, "Portugal") == [4.0]


def test_a_recording_without_words_has_an_empty_transcript(
    session: Session, recording_id: int
) -> None:
    transcribe(session, recording_id, [])
    assert starts(session, "anything") == []
