"""The page that creates a Space: name, description, topics, the Record Space toggle, and
going live now or at a scheduled time."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from airspace.accounts.auth import CSRF_FIELD, FormUser, OptionalUser, check_csrf
from airspace.accounts.models import User
from airspace.dependencies import ServicesDep
from airspace.errors import AirspaceError, Invalid
from airspace.live.views import RoomsDep
from airspace.spaces import services as spaces
from airspace.web.error_pages import page_for
from airspace.web.pages import render, to_login
from airspace.wiring import Services

logger = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)
MAX_UTC_OFFSET_MINUTES = 18 * 60


@dataclass
class SpaceForm:
    """What the form holds, to fill it in again when it comes back with an error."""

    title: str = ""
    description: str = ""
    topics: list[str] = field(default_factory=list)
    record: bool = True
    when: str = "now"
    starts_at: str = ""


def _form_page(
    request: Request,
    services: Services,
    user: User | None,
    form: SpaceForm,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        services,
        "create_space.html",
        user,
        status_code,
        form=form,
        error=error,
        all_topics=services.settings.topics,
    )


@router.get("/spaces/new", response_class=HTMLResponse)
def new_space(request: Request, services: ServicesDep, user: OptionalUser) -> Response:
    if user is None:
        return to_login("/spaces/new")
    return _form_page(request, services, user, SpaceForm())


def scheduled_time(local: str, utc_offset_minutes: int) -> datetime:
    """A ``datetime-local`` value as the browser's clock read it, in UTC. The offset is the
    browser's ``getTimezoneOffset()`` (minutes behind UTC); 0 without JavaScript."""
    try:
        naive = datetime.fromisoformat(local)
    except ValueError:
        raise Invalid("choose the date and time the Space starts") from None
    if naive.tzinfo is not None or abs(utc_offset_minutes) > MAX_UTC_OFFSET_MINUTES:
        raise Invalid("the start time is not a local date and time")
    return (naive + timedelta(minutes=utc_offset_minutes)).replace(tzinfo=UTC)


@router.post("/spaces/new", response_class=HTMLResponse)
async def create_space(
    request: Request,
    services: ServicesDep,
    rooms: RoomsDep,
    user: FormUser,
    title: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    topics: Annotated[list[str] | None, Form()] = None,
    record: Annotated[str | None, Form()] = None,
    when: Annotated[str, Form()] = "now",
    starts_at: Annotated[str, Form()] = "",
    utc_offset_minutes: Annotated[int, Form()] = 0,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    check_csrf(request, services.settings, csrf_token)
    if user is None:
        return to_login("/spaces/new")
    form = SpaceForm(title, description, topics or [], record is not None, when, starts_at)
    try:
        fields = spaces.SpaceFields(
            title=title,
            description=description,
            topics=form.topics,
            record=form.record,
            scheduled_start=(
                scheduled_time(starts_at, utc_offset_minutes) if when == "later" else None
            ),
        )
        space_id = await asyncio.to_thread(_create, services, user.id, fields)
    except AirspaceError as exc:
        return _form_page(request, services, user, form, exc.detail, exc.status_code)
    if when != "later":
        try:
            await rooms.start_space(space_id, user.id)
        except AirspaceError as exc:
            # The Space exists: its page offers "Start now" rather than a second Space.
            logger.warning("Space %s was created but did not go live: %s", space_id, exc.detail)
    return RedirectResponse(f"/i/spaces/{space_id}", status_code=303)


def _create(services: Services, host_id: int, fields: spaces.SpaceFields) -> str:
    with services.sessions() as session:
        host = session.get_one(User, host_id)
        space = spaces.create(session, host, fields, services.settings.topics, services.clock.now())
        session.commit()
        return space.id


@router.post("/i/spaces/{space_id}/start", response_class=HTMLResponse)
async def start_scheduled(
    space_id: str,
    request: Request,
    services: ServicesDep,
    rooms: RoomsDep,
    user: FormUser,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD)] = "",
) -> Response:
    """The host starts a scheduled Space from its page."""
    check_csrf(request, services.settings, csrf_token)
    if user is None:
        return to_login(f"/i/spaces/{space_id}")
    try:
        await rooms.start_space(space_id, user.id)
    except AirspaceError as exc:
        return page_for(exc, request, services, user)
    return RedirectResponse(f"/i/spaces/{space_id}", status_code=303)
