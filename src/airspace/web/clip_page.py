"""A clip's page: its audiogram with captions, its files, and cards for other sites."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from airspace.accounts.auth import OptionalUser
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import AirspaceError
from airspace.sharing import clips
from airspace.sharing.clip_views import clip_out
from airspace.web.error_pages import page_for
from airspace.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/i/clips/{clip_id}", response_class=HTMLResponse)
def clip_page(
    clip_id: str, request: Request, services: ServicesDep, db: DbDep, user: OptionalUser
) -> HTMLResponse:
    return _page(clip_id, request, services, db, user, embedded=False)


@router.get("/i/clips/{clip_id}/embed", response_class=HTMLResponse)
def clip_embed(
    clip_id: str, request: Request, services: ServicesDep, db: DbDep, user: OptionalUser
) -> HTMLResponse:
    """The clip's player alone, for an iframe (and X's player card)."""
    return _page(clip_id, request, services, db, user, embedded=True)


def _page(
    clip_id: str,
    request: Request,
    services: ServicesDep,
    db: DbDep,
    user: OptionalUser,
    *,
    embedded: bool,
) -> HTMLResponse:
    try:
        clip = clips.visible(db, clip_id, user, services.clock.now())
    except AirspaceError as exc:
        return page_for(exc, request, services, user)
    return render(
        request,
        services,
        "clip.html",
        user,
        clip=clip_out(services, db, clip),
        space=clip.space,
        host=clip.space.host,
        embedded=embedded,
        public_url=services.settings.public_url,
    )
