"""Finding Spaces by what they are called: title, description, topics and host (their
username or display name). Every word of the query must match one of them."""

from __future__ import annotations

from sqlalchemy import String, and_, cast, or_, select
from sqlalchemy.orm import Session

from airspace.accounts.models import User
from airspace.spaces.models import Space, SpaceState

MAX_WORDS = 8
LIKE_ESCAPE = "\\"


def _contains(word: str) -> str:
    """A LIKE pattern that finds ``word`` anywhere, its own ``%`` and ``_`` taken literally."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_spaces(session: Session, query: str, limit: int) -> list[Space]:
    """Spaces matching every word of ``query`` (case-insensitively), newest first;
    canceled ones left out."""
    words = query.split()[:MAX_WORDS]
    if not words:
        return []
    fields = (
        Space.title,
        Space.description,
        cast(Space.topics, String),
        User.username,
        User.display_name,
    )
    matches = [
        or_(*(field.ilike(_contains(word), escape=LIKE_ESCAPE) for field in fields))
        for word in words
    ]
    statement = (
        select(Space)
        .join(User, User.id == Space.host_id)
        .where(Space.state != SpaceState.CANCELED, and_(*matches))
        .order_by(Space.created_at.desc(), Space.id)
        .limit(limit)
    )
    return list(session.scalars(statement).unique())
