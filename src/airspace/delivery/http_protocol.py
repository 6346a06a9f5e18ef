"""uvicorn's HTTP protocol with listener media answered straight from the parser.

Thousands of listeners each fetch a playlist every two seconds and every new segment:
almost all of those requests have an answer known at once (``ListenerFastPath.answer``).
Going through ASGI for them — a task, a scope, two messages, the access-log record —
costs several times the answer itself. This protocol asks the fast path as soon as a
request's headers are parsed and writes the whole response to the socket then; what
the fast path cannot answer at once (a file to read, a route of the app), pipelined
requests and clients that do not read their responses go through ASGI as before.

Served media is not written to the access log (see ``delivery.access_log``); refusals
keep their one line.
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from airspace.delivery.fast_path import ListenerFastPath, MediaAnswer
from airspace.delivery.grants import MEDIA_PREFIX

_MEDIA = MEDIA_PREFIX.encode()


class _Answered:
    """Stands for the request/response cycle of a request answered from the parser:
    complete, so the parser's later callbacks (body, message complete) drop what comes."""

    response_complete = True
    disconnected = False
    keep_alive = True
    message_event = asyncio.Event()


ANSWERED = _Answered()


def media_protocol(fast_path: ListenerFastPath) -> type[HttpToolsProtocol]:
    """An HTTP protocol class for uvicorn (``Config(http=...)``) that answers listener
    media through ``fast_path`` without going through ASGI."""

    class MediaHttpProtocol(HttpToolsProtocol):
        def on_message_begin(self) -> None:
            # The ASGI scope is made only for requests that go through ASGI.
            self.url = b""
            self.expect_100_continue = False
            self.headers = []

        def on_headers_complete(self) -> None:
            if not self._answered():
                url, expect, headers = self.url, self.expect_100_continue, self.headers
                super().on_message_begin()  # the scope, as uvicorn makes it
                self.url, self.expect_100_continue, self.headers = url, expect, headers
                self.scope["headers"] = headers
                super().on_headers_complete()

        def _answered(self) -> bool:
            """Whether the request was answered here, at once."""
            url: bytes = self.url
            if not url.startswith(_MEDIA) or b"%" in url:
                return False
            if self.cycle is not None and not self.cycle.response_complete:
                return False  # pipelined behind a request still being answered
            if self.flow.write_paused or self.parser.should_upgrade():
                return False  # a client not reading its responses: ASGI waits for it
            method = self.parser.get_method().decode("ascii")
            path = url.partition(b"?")[0].decode("ascii")
            answer = fast_path.answer(method, path, self.headers)
            if answer is None:
                return False
            version = self.parser.get_http_version()
            keep_alive = version != "1.0" and self.parser.should_keep_alive()
            self.cycle = ANSWERED  # type: ignore[assignment]
            self._write(answer, method == "HEAD", keep_alive)
            if answer.status >= 400 and self.access_log:
                client = f"{self.client[0]}:{self.client[1]}" if self.client else "-"
                self.access_logger.info(
                    '%s - "%s %s HTTP/%s" %d', client, method, path, version, answer.status
                )
            if not keep_alive:
                self.transport.close()
            self.on_response_complete()
            return True

        def _write(self, answer: MediaAnswer, head: bool, keep_alive: bool) -> None:
            parts: list[bytes] = [STATUS_LINE[answer.status]]
            for name, value in (*self.server_state.default_headers, *answer.headers):
                parts += (name, b": ", value, b"\r\n")
            if answer.status not in (204, 304):
                parts += (b"content-length: ", str(len(answer.body)).encode(), b"\r\n")
            if not keep_alive:
                parts.append(b"connection: close\r\n")
            parts.append(b"\r\n")
            if not head:
                parts.append(answer.body)
            self.transport.write(b"".join(parts))

    return MediaHttpProtocol


GRACEFUL_SHUTDOWN_SECONDS = 10
"""How long a stopping server lets requests in flight finish. Some never would by
themselves (a page's notification stream lasts as long as the page), and a server told
to stop must stop: after this, what is left is cut and clients reconnect elsewhere."""


def server_config(app: Any, fast_path: ListenerFastPath | None, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for ``app``, with the media protocol when the app has a
    listener fast path (and httptools, its parser, is installed)."""
    options.setdefault("timeout_graceful_shutdown", GRACEFUL_SHUTDOWN_SECONDS)
    if fast_path is not None:
        options["http"] = media_protocol(fast_path)
    return uvicorn.Config(app, **options)
