"""Security headers on every response of the app.

Pages run only the site's own scripts and styles (no inline code anywhere), and no
other site may frame them — the host's End Space, delete and settings pages included —
except the embed player, which is made to be framed.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

EMBED_PAGE = re.compile(r"^/i/spaces/[A-Za-z0-9]{13}/embed$")
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    # Media may come from the object store (presigned URLs) as well as from here.
    "media-src 'self' blob: https:; connect-src 'self' https:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}"
)
COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
]
FRAMED_NOWHERE = [
    *COMMON,
    (b"content-security-policy", POLICY.format(ancestors="'none'").encode()),
    (b"x-frame-options", b"DENY"),
]
FRAMED_ANYWHERE = [
    *COMMON,
    (b"content-security-policy", POLICY.format(ancestors="*").encode()),
]


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = FRAMED_ANYWHERE if EMBED_PAGE.match(scope["path"]) else FRAMED_NOWHERE

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
