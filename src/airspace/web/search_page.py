"""The search page: Spaces by title, description, topic and host, and the moments in
replays where the words were spoken, each linking to that time."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from airspace.accounts.auth import OptionalUser
from airspace.captions.search import SearchResult, transcript_hits
from airspace.dependencies import DbDep, ServicesDep
from airspace.spaces.schemas import SpaceOut
from airspace.spaces.search import find_spaces
from airspace.spaces.views import space_out
from airspace.web.pages import render

router = APIRouter(include_in_schema=False)
logger = logging.getLogger(__name__)

MAX_QUERY = 200
SPACES_SHOWN = 24
REPLAYS_SHOWN = 20


@router.get("/search", response_class=HTMLResponse)
def search_page(
    request: Request, services: ServicesDep, db: DbDep, user: OptionalUser, q: str = ""
) -> HTMLResponse:
    query = " ".join(q.split())[:MAX_QUERY]
    found: list[SpaceOut] = []
    spoken: list[SearchResult] = []
    problem = None
    if query:
        try:
            found = [space_out(db, services, s) for s in find_spaces(db, query, SPACES_SHOWN)]
            spoken = transcript_hits(
                db, query, REPLAYS_SHOWN, services.clock.now(), services.settings.public_url
            )
        except Exception:  # the page says so rather than failing whole
            logger.exception("search for %r failed", query)
            db.rollback()
            problem = "Search is not working right now. Please try again in a moment."
    return render(
        request,
        services,
        "search.html",
        user,
        query=query,
        spaces=found,
        spoken=spoken,
        problem=problem,
    )
