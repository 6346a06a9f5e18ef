"""What every server-sent WebSocket of Airspace does: send a stream of messages until the
client goes away or the stream says it is over, reading what the client sends meanwhile,
and close cleanly whichever side ends first."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

WEBSOCKET_POLICY_VIOLATION = 1008
"""The close code for a client that sent what it must not."""

Message = TypeVar("Message")


async def send_until_gone(
    websocket: WebSocket,
    next_message: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[bool]],
    read_client: Coroutine[Any, Any, None],
) -> None:
    """Send each message ``next_message`` gives with ``send`` (which says whether to go
    on) while ``read_client`` runs (it returns when the client has gone); then close."""
    reader = asyncio.create_task(read_client)
    try:
        while not reader.done():
            getter = asyncio.ensure_future(next_message())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            if not await send(getter.result()):
                break
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        reader.cancel()
        if websocket.client_state is WebSocketState.CONNECTED:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close()
