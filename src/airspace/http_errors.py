"""Every error a client sees is JSON ``{"detail": ...}`` with the right status; never a trace."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Callable
from typing import Any

import redis
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airspace.errors import AirspaceError

logger = logging.getLogger(__name__)


PageForError = Callable[[Request, int, str, dict[str, str] | None], Response | None]
"""The page a browser gets for an error (status, detail, headers), or None for JSON."""


def install_error_handlers(app: FastAPI, page_for_error: PageForError | None = None) -> None:
    async def answer(
        request: Request, status_code: int, detail: str, headers: dict[str, str] | None = None
    ) -> Response:
        if page_for_error is not None:  # it may read the database: off the event loop
            page = await asyncio.to_thread(page_for_error, request, status_code, detail, headers)
            if page is not None:
                return page
        return JSONResponse({"detail": detail}, status_code=status_code, headers=headers)

    @app.exception_handler(AirspaceError)
    async def domain_error(request: Request, exc: AirspaceError) -> Response:
        return await answer(request, exc.status_code, exc.detail, exc.headers or None)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return await answer(request, exc.status_code, str(exc.detail), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "loc": list(error.get("loc", ())),
                "msg": error.get("msg", "").removeprefix("Value error, "),
                "type": error.get("type", ""),
            }
            for error in exc.errors()
        ]
        return JSONResponse({"detail": _summary(problems), "errors": problems}, status_code=422)

    async def outage(request: Request, exc: Exception) -> Response:
        found = outage_of(exc)
        if found is None:
            return await unexpected(request, exc)
        status_code, detail = found
        logger.error("%s %s: %s (%s)", request.method, request.url.path, detail, exc)
        retry = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return await answer(request, status_code, detail, retry)

    # Outages of what the server needs are answered where they are raised (Starlette
    # hands errors that reach its last handler on to the server as well).
    for kind in OUTAGE_KINDS:
        app.add_exception_handler(kind, outage)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return await answer(request, 500, "internal server error")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on the request's path (a 405 from Starlette names
    only the first route that matched the path, while a path may have a route per method)."""
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.router.routes):
        if route.path is not None and route.methods:
            pattern, _, _ = compile_path(route.path)
            if pattern.match(request.scope["path"]):
                methods |= route.methods
    return sorted(methods)


def _summary(problems: list[dict[str, Any]]) -> str:
    """One sentence for the inputs refused: ``field: reason``, the first few of them."""
    if any(problem["type"] == "json_invalid" for problem in problems):
        return "the body is not valid JSON"
    shown = [f"{_where(p['loc'])}: {p['msg']}" for p in problems[:SUMMARIZED_PROBLEMS]]
    more = len(problems) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more > 0 else "") or "invalid request"


def _where(loc: list[str | int]) -> str:
    """``body.username`` → ``username``; a whole body or query string keeps its name."""
    inside = loc[1:] if len(loc) > 1 else loc
    return ".".join(str(part) for part in inside) or "request"


SUMMARIZED_PROBLEMS = 3
RETRY_AFTER_SECONDS = 30
"""What a client is told to wait after an outage answer (503, 507)."""
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
OUTAGE_KINDS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.DBAPIError,
    sqlalchemy.exc.TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    OSError,
)
"""Errors that may be an outage (``outage_of`` tells); the rest of them are bugs: 500."""


def outage_of(exc: BaseException) -> tuple[int, str] | None:
    """The status and reason for an error that is an outage of something the server
    needs, not a bug: a full disk (507), a database or Redis it cannot reach (503)."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        text = str(error).lower()
        if (isinstance(error, OSError) and error.errno in DISK_FULL) or (
            "disk is full" in text or "no space left on device" in text
        ):
            return 507, "the server's storage is full; try again later"
        if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
            return 503, "the database is unavailable; try again in a moment"
        if isinstance(error, sqlalchemy.exc.OperationalError | sqlalchemy.exc.TimeoutError):
            return 503, "the database is unavailable; try again in a moment"
        if isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
            return 503, "a service the server needs (Redis) is unavailable; try again shortly"
        error = error.__cause__ or error.__context__
    return None


class BodySizeLimit:
    """Answer 413 to request bodies larger than ``max_bytes``, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._reject(send, 400, "invalid Content-Length")
                    return
                if declared > self.max_bytes:
                    await self._reject(send, 413, self._too_large())
                    return
        received = 0
        response_started = False
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Answer now and tell the app the client went away, so that no
                    # body parser swallows the condition into a different error.
                    rejected = True
                    if not response_started:
                        await self._reject(send, 413, self._too_large())
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if rejected:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except Exception:
            if not rejected:
                raise

    def _too_large(self) -> str:
        return f"request body is larger than {self.max_bytes} bytes"

    @staticmethod
    async def _reject(send: Send, status: int, detail: str) -> None:
        response = JSONResponse({"detail": detail}, status_code=status)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": response.raw_headers,
            }
        )
        await send({"type": "http.response.body", "body": response.body})
