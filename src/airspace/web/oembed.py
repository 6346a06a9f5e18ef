"""oEmbed: how other sites learn to embed a Space's player from its link."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from airspace.api_contract import errors
from airspace.dependencies import DbDep, ServicesDep
from airspace.errors import NotFound
from airspace.sharing import shares
from airspace.spaces import services as spaces

router = APIRouter(tags=["sharing"])


@router.get("/oembed", responses=errors(404))
def oembed(
    url: Annotated[str, Query(max_length=500)],
    services: ServicesDep,
    db: DbDep,
    format: Literal["json"] = "json",
    maxheight: Annotated[int | None, Query(ge=1, le=10_000)] = None,
) -> dict[str, Any]:
    """The oEmbed answer (type ``rich``) for a Space link of this instance. Below
    ``maxheight`` 420 the compact player (180 px high) is offered."""
    prefix = f"{services.settings.public_url}/i/spaces/"
    if not url.startswith(prefix):
        raise NotFound("not a Space link of this instance")
    space = spaces.get(db, url.removeprefix(prefix).split("?", 1)[0].split("/", 1)[0])
    links = shares.share_links(space.id, space.title, services.settings.public_url, None)
    compact = maxheight is not None and maxheight < shares.EMBED_HEIGHT
    return {
        "version": "1.0",
        "type": "rich",
        "provider_name": "Airspace",
        "provider_url": services.settings.public_url,
        "title": space.title,
        "author_name": space.host.display_name,
        "width": shares.EMBED_WIDTH,
        "height": shares.COMPACT_EMBED_HEIGHT if compact else shares.EMBED_HEIGHT,
        "html": links.compact_embed_code if compact else links.embed_code,
    }
