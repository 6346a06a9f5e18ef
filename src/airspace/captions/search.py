"""Full-text search of transcripts: SQLite FTS5 on the embedded default, PostgreSQL
full-text search (a GIN index over ``to_tsvector('english', body)``) at scale."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import bindparam, delete, func, select, text
from sqlalchemy.orm import Session

from airspace.captions.models import TranscriptSegment
from airspace.recordings import lifecycle
from airspace.recordings.models import Recording
from airspace.spaces.models import Space

MAX_TERMS = 12
_TERM = re.compile(r"[\w']+", re.UNICODE)


def _is_sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def replace_segments(
    session: Session, recording_id: int, segments: Sequence[TranscriptSegment]
) -> None:
    """Make ``segments`` the recording's transcript, in the table and the index."""
    old = list(
        session.scalars(
            select(TranscriptSegment.id).where(TranscriptSegment.recording_id == recording_id)
        )
    )
    if old and _is_sqlite(session):
        session.execute(
            text("DELETE FROM transcript_search WHERE segment_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": old},
        )
    session.execute(delete(TranscriptSegment).where(TranscriptSegment.recording_id == recording_id))
    ordered = sorted(segments, key=lambda s: s.start_seconds)
    for index, segment in enumerate(ordered):
        following = ordered[index + 1].body if index + 1 < len(ordered) else ""
        segment.search_text = f"{segment.body} {following}".strip()
    session.add_all(segments)
    session.flush()
    if _is_sqlite(session):
        for segment in segments:
            session.execute(
                text("INSERT INTO transcript_search (segment_id, body) VALUES (:id, :body)"),
                {"id": segment.id, "body": segment.search_text},
            )


def matching_segments(session: Session, query: str, limit: int) -> list[TranscriptSegment]:
    """Transcript segments where the words of ``query`` are spoken (all of them, within
    the segment or running on into the next), best matches first."""
    terms = _TERM.findall(query)[:MAX_TERMS]
    if not terms:
        return []
    found = _matching(session, terms, limit * 2)
    return [s for s in found if _starts_here(s.body, terms)][:limit]


def _starts_here(body: str, terms: list[str]) -> bool:
    """Whether a matched segment itself holds a query word (else the match lies wholly in
    the next segment, which is a hit of its own)."""
    text = body.lower()
    return any(term.lower()[: max(4, len(term) - 2)] in text for term in terms)


def _matching(session: Session, terms: list[str], limit: int) -> list[TranscriptSegment]:
    if _is_sqlite(session):
        fts_query = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
        ids = [
            int(row[0])
            for row in session.execute(
                text(
                    "SELECT segment_id FROM transcript_search WHERE transcript_search MATCH :q "
                    "ORDER BY rank LIMIT :limit"
                ),
                {"q": fts_query, "limit": limit},
            )
        ]
        rows = session.scalars(select(TranscriptSegment).where(TranscriptSegment.id.in_(ids)))
        by_id = {row.id: row for row in rows}
        return [by_id[i] for i in ids if i in by_id]
    vector = func.to_tsvector(text("'english'"), TranscriptSegment.search_text)
    tsquery = func.plainto_tsquery(text("'english'"), " ".join(terms))
    return list(
        session.scalars(
            select(TranscriptSegment)
            .where(vector.bool_op("@@")(tsquery))
            .order_by(func.ts_rank(vector, tsquery).desc(), TranscriptSegment.id)
            .limit(limit)
        )
    )


class SearchHit(BaseModel):
    start: float
    """Seconds into the replay."""
    speaker: str
    text: str


class SearchResult(BaseModel):
    space_id: str
    title: str
    url: str
    hits: list[SearchHit]


def transcript_hits(
    session: Session, query: str, limit: int, now: datetime, public_url: str
) -> list[SearchResult]:
    """Up to ``limit`` recordings in which the words of ``query`` were spoken, each with
    its hits in order, on the replay's clock. Only public recordings replayable now."""
    results: dict[str, SearchResult] = {}
    segments = matching_segments(session, query, limit * 10)
    rows = session.execute(
        select(Recording, Space)
        .join(Space, Space.id == Recording.space_id)
        .where(Recording.id.in_({segment.recording_id for segment in segments}))
    ).tuples()
    found = {recording.id: (recording, space) for recording, space in rows}
    for segment in segments:
        recording, space = found[segment.recording_id]
        if space.is_ticketed or not lifecycle.is_listenable(recording, now):
            continue
        if segment.end_seconds <= recording.start_offset_seconds:
            continue
        result = results.get(space.id)
        if result is None:
            if len(results) >= limit:
                continue
            result = results[space.id] = SearchResult(
                space_id=space.id,
                title=space.title,
                url=f"{public_url}/i/spaces/{space.id}",
                hits=[],
            )
        start = max(0.0, segment.start_seconds - recording.start_offset_seconds)
        result.hits.append(
            SearchHit(start=round(start, 3), speaker=segment.speaker_name, text=segment.body)
        )
    for result in results.values():
        result.hits.sort(key=lambda h: h.start)
    return list(results.values())
