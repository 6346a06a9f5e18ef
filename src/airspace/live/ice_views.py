"""The STUN and TURN servers a speaker's browser connects through (``media/ice.py``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from airspace.accounts.auth import CurrentUser
from airspace.dependencies import ServicesDep
from airspace.media.ice import browser_ice_servers

router = APIRouter(prefix="/spaces/{space_id}/room", tags=["rooms"])


class IceServerOut(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceServersOut(BaseModel):
    ice_servers: list[IceServerOut] = Field(
        description="As RTCPeerConnection's iceServers; empty when none are configured."
    )
    expires_at: datetime | None = Field(
        description="When the TURN credentials stop working (ask again before a new "
        "connection after that); null when they do not expire."
    )


@router.get("/ice-servers")
def ice_servers(space_id: str, services: ServicesDep, user: CurrentUser) -> IceServersOut:
    """STUN and TURN servers for this account's microphone connection, with short-lived
    TURN credentials of its own."""
    del space_id  # the same servers serve every room; the path keeps it with the room's API
    # The TURN server checks the expiry against its own clock: the real one, not the
    # instance's (which tests set).
    servers, expires = browser_ice_servers(services.settings.ice, user.username, time.time())
    return IceServersOut(
        ice_servers=[IceServerOut(**server) for server in servers],
        expires_at=datetime.fromtimestamp(expires, UTC) if expires is not None else None,
    )
