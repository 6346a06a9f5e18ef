"""Errors as pages for people: a browser that asked for a page gets the site's layout,
a heading that says what happened in plain words, and the reason as a sentence; the API
and media keep their JSON ``{"detail": ...}``."""

from __future__ import annotations

import html
import logging

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from airspace.accounts import services as accounts
from airspace.accounts.auth import session_id_from
from airspace.accounts.models import User
from airspace.errors import AirspaceError
from airspace.wiring import Services

logger = logging.getLogger(__name__)

HEADINGS = {
    400: "That did not work",
    401: "Please log in",
    403: "You can't see this",
    404: "Page not found",
    405: "That did not work",
    409: "Not right now",
    410: "This is gone",
    413: "That is too large",
    422: "Something is missing",
    429: "Slow down a little",
    503: "Airspace is busy",
    507: "Airspace is out of space",
}
FALLBACK_HEADING = "Something went wrong"
PLAIN_WORDS = {
    "Not Found": "There is no page at this address. The link may be wrong, or what it "
    "pointed to was removed.",
    "Method Not Allowed": "This address cannot be used that way.",
    "internal server error": "The server ran into a problem it did not expect. It has been "
    "logged; please try again in a moment.",
}
NOT_PAGES = ("/api/", "/m/", "/static/")
"""Paths whose errors stay JSON whatever the client accepts."""


def wants_page(request: Request) -> bool:
    """A browser navigating here (it asks for HTML) rather than a script or a player."""
    if request.url.path.startswith(NOT_PAGES):
        return False
    return "text/html" in request.headers.get("accept", "")


def as_sentence(detail: str) -> str:
    """``the space is not live`` → ``The space is not live.``"""
    text = PLAIN_WORDS.get(detail, detail).strip()
    if not text:
        return PLAIN_WORDS["internal server error"]
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def error_page(
    request: Request,
    services: Services,
    user: User | None,
    status_code: int,
    detail: str,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    from airspace.web.pages import render  # the pages import this module's callers

    response = render(
        request,
        services,
        "error.html",
        user,
        status_code,
        heading=HEADINGS.get(status_code, FALLBACK_HEADING),
        message=as_sentence(detail),
        status=status_code,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def page_for(
    error: AirspaceError, request: Request, services: Services, user: User | None
) -> HTMLResponse:
    """The page for a refusal a page handler met."""
    return error_page(request, services, user, error.status_code, error.detail)


def browser_error(
    request: Request, status_code: int, detail: str, headers: dict[str, str] | None = None
) -> Response | None:
    """The error page for a browser, or None where JSON is the answer. Used by the app's
    error handlers; when the page cannot be drawn (the database is away), a bare one."""
    if not wants_page(request):
        return None
    services: Services = request.app.state.services
    if status_code in OUTAGES:
        return bare_page(status_code, detail, headers)
    try:
        return error_page(request, services, _user(request, services), status_code, detail, headers)
    except Exception:
        logger.warning("could not draw the error page for %s", request.url.path, exc_info=True)
        return bare_page(status_code, detail, headers)


OUTAGES = frozenset({503, 507})
"""What the database or storage being away answers: its page needs neither."""


def bare_page(status_code: int, detail: str, headers: dict[str, str] | None) -> HTMLResponse:
    """The error page without the site's layout (which reads the database)."""
    heading = HEADINGS.get(status_code, FALLBACK_HEADING)
    body = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{heading}'
        f'</title><link rel="stylesheet" href="/static/airspace.css"></head><body><main>'
        f'<div class="panel error-page"><h1>{heading}</h1><p role="alert">'
        f"{html.escape(as_sentence(detail))}</p>"
        '<p><a class="button" href="/">Back home</a></p></div></main></body></html>'
    )
    return HTMLResponse(body, status_code=status_code, headers=headers)


def _user(request: Request, services: Services) -> User | None:
    session_id = session_id_from(request, services.settings)
    if not session_id:
        return None
    with services.sessions() as session:
        user = accounts.user_for_session(session, session_id, services.clock.now())
        if user is not None:
            session.expunge(user)
        return user
