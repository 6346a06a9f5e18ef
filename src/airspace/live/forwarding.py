"""Room commands reach the node that holds the room, whichever node they were sent to.

A live room runs in one process: its owner (see ``leases``). A room command — the room
API under ``/api/v1/spaces/<id>/room`` and ``POST /api/v1/spaces/<id>/end`` — sent to
another node is relayed to the owner over Redis, run there through the owner's own app
(authentication and all), and the owner's answer is sent back as it is. A microphone's
media then flows straight between the browser and the owner.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, runtime_checkable

import redis.asyncio as aioredis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from airspace.http_errors import OUTAGE_KINDS, RETRY_AFTER_SECONDS, outage_of
from airspace.live.events import RESUBSCRIBE_SECONDS

logger = logging.getLogger(__name__)

ROOM_COMMAND = re.compile(r"^/api/v1/spaces/([A-Za-z0-9]{13})/(?:room(?:/.*)?|end)$")
FORWARDED = b"x-airspace-forwarded"
"""Marks a relayed request, so the owner runs it rather than relaying it again."""
ANSWER_SECONDS = 15.0
"""How long the node that relays waits for the owner's answer (a microphone offer takes
a few seconds to answer)."""
CHANNEL_PREFIX = "airspace:node:"

Relayed = dict[str, Any]
"""A request or an answer as it travels: JSON, bodies in base64."""


@runtime_checkable
class RoomRelay(Protocol):
    reaches_other_nodes: bool
    """False where one process holds every room (nothing to relay)."""

    async def serve(self, node_id: str, app: ASGIApp) -> None:
        """Run the requests relayed to ``node_id`` through ``app`` until cancelled."""
        ...

    async def relay(self, node_id: str, request: Relayed) -> Relayed | None:
        """Send ``request`` to ``node_id``; its answer, or None if none came in time."""
        ...

    async def peers(self, node_id: str) -> set[str]:
        """The other nodes serving relayed requests now (those a room can move to)."""
        ...

    async def close(self) -> None: ...


class LocalRoomRelay:
    """One process holds every room: nothing is ever relayed."""

    reaches_other_nodes = False

    async def serve(self, node_id: str, app: ASGIApp) -> None:
        await asyncio.Event().wait()

    async def relay(self, node_id: str, request: Relayed) -> Relayed | None:
        return None

    async def peers(self, node_id: str) -> set[str]:
        return set()

    async def close(self) -> None:
        pass


class RedisRoomRelay:
    """Requests to a node on its own Redis channel; each answer on a channel of its own."""

    reaches_other_nodes = True

    def __init__(self, url: str) -> None:
        self.client = aioredis.from_url(url)

    async def serve(self, node_id: str, app: ASGIApp) -> None:
        running: set[asyncio.Task[None]] = set()
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL_PREFIX + node_id)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None or message["type"] != "message":
                        continue
                    task = asyncio.create_task(self._answer(app, json.loads(message["data"])))
                    running.add(task)
                    task.add_done_callback(running.discard)
            except (OSError, aioredis.RedisError) as error:  # Redis restarting, say
                logger.warning("lost the relay channel (%s); subscribing again", error)
                await asyncio.sleep(RESUBSCRIBE_SECONDS)
            finally:
                with contextlib.suppress(OSError, aioredis.RedisError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _answer(self, app: ASGIApp, request: Relayed) -> None:
        try:
            answer = await run_request(app, request)
        except Exception:
            logger.exception("a relayed room command failed")
            answer = _answer_of(500, {"detail": "the room's server failed to answer"})
        await self.client.publish(str(request["reply_to"]), json.dumps(answer))

    async def relay(self, node_id: str, request: Relayed) -> Relayed | None:
        reply_to = f"{CHANNEL_PREFIX}reply:{uuid.uuid4().hex}"
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(reply_to)
        try:
            listeners = await self.client.publish(
                CHANNEL_PREFIX + node_id, json.dumps({**request, "reply_to": reply_to})
            )
            if not listeners:
                return None
            async with asyncio.timeout(ANSWER_SECONDS):
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        answer: Relayed = json.loads(message["data"])
                        return answer
        except TimeoutError:
            return None
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def peers(self, node_id: str) -> set[str]:
        """Nodes subscribed to their own request channel (every running ``serve``)."""
        channels = await self.client.pubsub_channels(f"{CHANNEL_PREFIX}*")
        names = {c.decode() if isinstance(c, bytes) else str(c) for c in channels}
        nodes = {name[len(CHANNEL_PREFIX) :] for name in names}
        return {node for node in nodes if not node.startswith("reply:") and node != node_id}

    async def close(self) -> None:
        await self.client.aclose()


class RoomCommandForwarding:
    """ASGI middleware: room commands for rooms held by another node go to that node."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        relay: RoomRelay,
        node_id: str,
        holder_of: Callable[[str], Awaitable[str | None]],
        hosts: Callable[[str], bool],
    ) -> None:
        self.app = app
        self.relay = relay
        self.node_id = node_id
        self.holder_of = holder_of
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = ROOM_COMMAND.match(scope.get("path", "")) if scope["type"] == "http" else None
        if (
            match is None
            or not self.relay.reaches_other_nodes
            or self.hosts(match.group(1))
            or _was_relayed(scope)
        ):
            await self.app(scope, receive, send)
            return
        try:
            holder = await self.holder_of(match.group(1))
            if holder is None or holder == self.node_id:
                await self.app(scope, receive, send)
                return
            body = await _read_body(receive)
            answer = await self.relay.relay(holder, _request_of(scope, body))
        except OUTAGE_KINDS as error:  # out here, the app's own outage answers do not reach
            found = outage_of(error)
            if found is None:
                raise
            logger.error("%s %s: %s (%s)", scope["method"], scope["path"], found[1], error)
            answer = _answer_of(found[0], {"detail": found[1]})
        if answer is None:
            answer = _answer_of(
                503, {"detail": f"the server holding this room ({holder}) did not answer"}
            )
        await send(
            {
                "type": "http.response.start",
                "status": answer["status"],
                "headers": [
                    (k.encode("latin-1"), v.encode("latin-1")) for k, v in answer["headers"]
                ],
            }
        )
        await send({"type": "http.response.body", "body": base64.b64decode(answer["body"])})


def _was_relayed(scope: Scope) -> bool:
    return any(name == FORWARDED for name, _ in scope["headers"])


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


def _request_of(scope: Scope, body: bytes) -> Relayed:
    client = scope.get("client")
    return {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope.get("query_string", b"").decode("latin-1"),
        "headers": [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
        "client": list(client) if client else None,
        "body": base64.b64encode(body).decode(),
    }


async def ask_app(
    app: ASGIApp,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    client: tuple[str, int] | None,
    body: bytes = b"",
) -> Relayed:
    """Send a request of this node's own through ``app`` (as the user ``headers``
    authenticate), so that a room command reaches the node holding the room."""
    request: Relayed = {
        "method": method,
        "path": path,
        "query": "",
        "headers": headers,
        "client": list(client) if client else None,
        "body": base64.b64encode(body).decode(),
    }
    return await run_request(app, request, relayed=False)


def _answer_of(status: int, detail: dict[str, str]) -> Relayed:
    body = json.dumps(detail).encode()
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    if status in (503, 507):
        headers.append(("retry-after", str(RETRY_AFTER_SECONDS)))
    return {"status": status, "headers": headers, "body": base64.b64encode(body).decode()}


async def run_request(app: ASGIApp, request: Relayed, *, relayed: bool = True) -> Relayed:
    """Run a relayed request through ``app`` in this process; its answer. Without
    ``relayed`` it is a request of this node's own, which this node may relay on."""
    body = base64.b64decode(request["body"])
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in request["headers"]]
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request["method"],
        "scheme": "http",
        "path": request["path"],
        "raw_path": request["path"].encode(),
        "query_string": request["query"].encode("latin-1"),
        "root_path": "",
        "headers": [*headers, (FORWARDED, b"1")] if relayed else headers,
        "client": tuple(request["client"]) if request["client"] else None,
        "server": None,
    }
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # nothing more: the request was whole
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 500
    response_headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers.extend(
                (k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])
            )
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    body_out = b"".join(chunks)
    return {
        "status": status,
        "headers": response_headers,
        "body": base64.b64encode(body_out).decode(),
    }
