"""oEmbed: how other sites learn to embed a Space's player from its link."""

from __future__ import annotations

from html import escape
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from airspace.api_contract import errors
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import NotFound
from airspace.spaces import services as spaces

router = APIRouter(tags=["sharing"])

WIDTH, HEIGHT = 480, 200


@router.get("/oembed", responses=errors(404))
def oembed(
    url: Annotated[str, Query(max_length=500)],
    services: ServicesDep,
    db: DbDep,
    format: Literal["json"] = "json",
) -> dict[str, Any]:
    """The oEmbed answer (type ``rich``) for a Space link of this instance."""
    prefix = f"{services.settings.public_url}/i/spaces/"
    if not url.startswith(prefix):
        raise NotFound("not a Space link of this instance")
    space = spaces.get(db, url.removeprefix(prefix).split("?", 1)[0].split("/", 1)[0])
    src = f"{prefix}{space.id}/embed"
    return {
        "version": "1.0",
        "type": "rich",
        "provider_name": "Airspace",
        "provider_url": services.settings.public_url,
        "title": space.title,
        "author_name": space.host.display_name,
        "width": WIDTH,
        "height": HEIGHT,
        "html": (
            f'<iframe src="{escape(src)}" width="{WIDTH}" height="{HEIGHT}" '
            f'title="{escape(space.title)}" frameborder="0" allow="autoplay"></iframe>'
        ),
    }
