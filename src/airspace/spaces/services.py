"""Space rules: creation, edits, the state machine, listings and tickets."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from airspace.accounts import services as accounts
from airspace.accounts.models import User
from airspace.delivery.generations import revoke_media
from airspace.errors import Conflict, Forbidden, Invalid, NotFound
from airspace.ids import is_space_id, new_base62_id
from airspace.recordings import lifecycle
from airspace.recordings.models import Recording, RecordingState
from airspace.sharing import notifications
from airspace.sharing.models import NotificationKind
from airspace.spaces.models import Space, SpaceState, Ticket
from airspace.text import multiline, printable

MAX_TITLE = 70
MAX_DESCRIPTION = 280
MAX_TOPICS = 3
MAX_SCHEDULE_AHEAD = timedelta(days=30)
LISTINGS = ("live", "upcoming", "recorded")


@dataclass
class SpaceFields:
    """What a host sets on a Space; None leaves a field unchanged on edit."""

    title: str | None = None
    description: str | None = None
    topics: list[str] | None = None
    record: bool | None = None
    scheduled_start: datetime | None = None
    ticket_capacity: int | None = None


def _clean_title(title: str) -> str:
    title = " ".join(printable(title, "title").split())
    if not 1 <= len(title) <= MAX_TITLE:
        raise Invalid(f"title must be 1 to {MAX_TITLE} characters")
    return title


def _clean_description(description: str) -> str:
    description = multiline(description, "description").strip()
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"description must be at most {MAX_DESCRIPTION} characters")
    return description


def _clean_topics(topics: list[str], allowed: tuple[str, ...]) -> list[str]:
    by_folded = {t.casefold(): t for t in allowed}
    cleaned: list[str] = []
    for topic in topics:
        canonical = by_folded.get(topic.strip().casefold())
        if canonical is None:
            raise Invalid(f"unknown topic {topic!r}; choose from: {', '.join(allowed)}")
        if canonical not in cleaned:
            cleaned.append(canonical)
    if len(cleaned) > MAX_TOPICS:
        raise Invalid(f"at most {MAX_TOPICS} topics")
    return cleaned


def _clean_schedule(start: datetime, now: datetime) -> datetime:
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    if start <= now:
        raise Invalid("scheduled_start must be in the future")
    if start > now + MAX_SCHEDULE_AHEAD:
        raise Invalid("scheduled_start must be at most 30 days ahead")
    return start


def create(
    session: Session, host: User, fields: SpaceFields, topics: tuple[str, ...], now: datetime
) -> Space:
    if fields.title is None:
        raise Invalid("title is required")
    description = _clean_description(fields.description or "")
    space = Space(
        id=new_base62_id(),
        host_id=host.id,
        title=_clean_title(fields.title),
        description=description,
        topics=_clean_topics(fields.topics or [], topics),
        record=bool(fields.record),
        state=SpaceState.SCHEDULED,
        scheduled_start=(
            _clean_schedule(fields.scheduled_start, now) if fields.scheduled_start else None
        ),
        ticket_capacity=fields.ticket_capacity,
        created_at=now,
    )
    session.add(space)
    session.flush()
    if space.scheduled_start is not None:
        notifications.tell_followers(session, space, NotificationKind.SCHEDULED, now)
    return space


def get(session: Session, space_id: str) -> Space:
    space = session.get(Space, space_id) if is_space_id(space_id) else None
    if space is None:
        raise NotFound(f"no Space {space_id!r}")
    return space


def _require_host(space: Space, user: User, action: str) -> None:
    if space.host_id != user.id:
        raise Forbidden(f"only the host can {action} this Space")


def _require_state(space: Space, state: SpaceState, action: str) -> None:
    if space.state is not state:
        raise Conflict(f"cannot {action} a Space that is {space.state.value}")


def edit(
    session: Session,
    space: Space,
    user: User,
    fields: SpaceFields,
    topics: tuple[str, ...],
    now: datetime,
) -> Space:
    _require_host(space, user, "edit")
    if (
        fields.record is not None
        and fields.record != space.record
        and space.state is not (SpaceState.SCHEDULED)
    ):
        raise Conflict("recording is chosen before going live and cannot change now")
    _require_state(space, SpaceState.SCHEDULED, "edit")
    if fields.title is not None:
        space.title = _clean_title(fields.title)
    if fields.description is not None:
        space.description = _clean_description(fields.description)
    if fields.topics is not None:
        space.topics = _clean_topics(fields.topics, topics)
    if fields.record is not None:
        space.record = fields.record
    if fields.scheduled_start is not None:
        space.scheduled_start = _clean_schedule(fields.scheduled_start, now)
    if fields.ticket_capacity is not None:
        if fields.ticket_capacity < count_tickets(session, space):
            raise Conflict("more tickets are already issued than that capacity")
        if space.ticket_capacity is None:
            revoke_media(space)  # a ticket is required from now on, for every byte
        space.ticket_capacity = fields.ticket_capacity
    return space


def require_live_room_for(session: Session, host: User, most: int) -> None:
    """A host runs at most ``most`` live Spaces at once (409 beyond)."""
    live = session.scalar(
        select(func.count(Space.id)).where(Space.host_id == host.id, Space.state == SpaceState.LIVE)
    )
    if live is not None and live >= most:
        plural = "Space" if most == 1 else "Spaces"
        raise Conflict(f"you already host {most} live {plural}; end one before going live again")


def start(
    session: Session, space: Space, user: User, now: datetime, *, most_live: int | None = None
) -> Recording | None:
    """Go live; returns the new recording when the Space is recorded. ``most_live``: how
    many live Spaces the host may run at once (409 beyond)."""
    _require_host(space, user, "start")
    _require_state(space, SpaceState.SCHEDULED, "start")
    if most_live is not None:
        require_live_room_for(session, user, most_live)
    space.state = SpaceState.LIVE
    space.started_at = now
    notifications.tell_followers(session, space, NotificationKind.LIVE, now)
    if not space.record:
        return None
    recording = lifecycle.begin(space.id, now)
    session.add(recording)
    session.flush()
    return recording


def end(
    session: Session, space: Space, user: User, now: datetime, hold: timedelta
) -> Recording | None:
    """End a live Space; returns its recording, now processing, if it was recorded."""
    _require_host(space, user, "end")
    return finish(session, space, now, hold)


def finish(session: Session, space: Space, now: datetime, hold: timedelta) -> Recording | None:
    """End a live Space whoever asks (the host, a failed room, recovery after a crash)."""
    _require_state(space, SpaceState.LIVE, "end")
    space.state = SpaceState.ENDED
    space.ended_at = now
    recording = session.scalar(select(Recording).where(Recording.space_id == space.id))
    if recording is not None and recording.state is RecordingState.RECORDING:
        lifecycle.stop(recording, now, hold)
    return recording


def cancel(space: Space, user: User) -> None:
    _require_host(space, user, "cancel")
    _require_state(space, SpaceState.SCHEDULED, "cancel")
    space.state = SpaceState.CANCELED


def _encode_cursor(space: Space) -> str:
    raw = json.dumps([space.created_at.isoformat(), space.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, space_id = json.loads(raw)
        moment = datetime.fromisoformat(created)
        if not isinstance(space_id, str) or not is_space_id(space_id) or moment.tzinfo is None:
            raise ValueError
        return moment, space_id
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise Invalid("invalid cursor") from None


def _listing_query(listing: str) -> Select[Space]:
    query = select(Space)
    if listing == "live":
        return query.where(Space.state == SpaceState.LIVE)
    if listing == "upcoming":
        return query.where(Space.state == SpaceState.SCHEDULED)
    if listing == "recorded":
        return query.join(Recording, Recording.space_id == Space.id).where(
            Recording.state == RecordingState.AVAILABLE
        )
    raise Invalid(f"listing must be one of: {', '.join(LISTINGS)}")


def list_spaces(
    session: Session, listing: str, limit: int, cursor: str | None, host: str | None = None
) -> tuple[list[Space], str | None]:
    """A page of Spaces (of ``host`` only, when given), newest first; returns the page and
    the cursor of the next one."""
    query = _listing_query(listing)
    if host is not None:
        query = query.join(User, User.id == Space.host_id).where(User.username_key == host.lower())
    if cursor:
        created, space_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                Space.created_at < created,
                and_(Space.created_at == created, Space.id < space_id),
            )
        )
    rows = list(
        session.scalars(query.order_by(Space.created_at.desc(), Space.id.desc()).limit(limit + 1))
    )
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def count_tickets(session: Session, space: Space) -> int:
    return session.scalar(select(func.count(Ticket.id)).where(Ticket.space_id == space.id)) or 0


def has_ticket(session: Session, space: Space, user: User | None) -> bool:
    if user is None:
        return False
    if user.id == space.host_id:
        return True
    return (
        session.scalar(
            select(Ticket.id).where(Ticket.space_id == space.id, Ticket.user_id == user.id)
        )
        is not None
    )


def issue_ticket(
    session: Session, space: Space, user: User, now: datetime, holder_username: str | None
) -> Ticket:
    """Claim a free ticket for ``user``, or (host only) issue one to ``holder_username``."""
    if space.ticket_capacity is None:
        raise Conflict("this Space is not ticketed")
    if space.state in (SpaceState.ENDED, SpaceState.CANCELED):
        raise Conflict(f"tickets are closed: the Space is {space.state.value}")
    holder = user
    if holder_username is not None and holder_username != user.username:
        _require_host(space, user, "issue tickets for")
        holder = accounts.get_user(session, holder_username)
    if accounts.is_blocked(session, space.host_id, holder.id):
        raise Forbidden("the host has blocked this account")
    if has_ticket(session, space, holder):
        raise Conflict("already holds a ticket")
    if count_tickets(session, space) >= space.ticket_capacity:
        raise Conflict("sold out: every ticket is taken")
    ticket = Ticket(space_id=space.id, user_id=holder.id, created_at=now)
    session.add(ticket)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("already holds a ticket") from None
    return ticket
