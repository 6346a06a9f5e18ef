"""The HTTP protocol that answers listener media from its parser, spoken to over raw
sockets the way players and proxies do: keep-alive, HEAD, validators, refusals,
pipelining, HTTP/1.0, and every other request still reaching the app."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from airspace.delivery.grants import Audience, Grant, Scope
from tests.conftest import LiveServer

ON_LOCAL_STORAGE = pytest.mark.parametrize("settings", ["local"], indirect=True)
SPACE = "AAAAAAAAAAAAA"
SEGMENT = bytes([0x47]) + bytes(range(187)) * 2


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


class Connection:
    """One client connection; reads responses one at a time, however they arrive."""

    def __init__(self, base: str) -> None:
        address = urlsplit(base)
        self.sock = socket.create_connection((address.hostname, address.port), timeout=10)
        self.buffer = b""

    def send(self, *requests: bytes) -> None:
        self.sock.sendall(b"".join(requests))

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buffer += data
        return bool(data)

    def read(self, head: bool = False) -> Response:
        while b"\r\n\r\n" not in self.buffer:
            assert self._fill(), "the server closed the connection"
        top, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        status_line, *lines = top.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = 0 if head else int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            assert self._fill(), "the server closed the connection mid-body"
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Response(int(status_line.split()[1]), headers, body)

    def closed_by_server(self) -> bool:
        return self.buffer == b"" and not self._fill()

    def close(self) -> None:
        self.sock.close()


@contextmanager
def connection(live_server: LiveServer) -> Iterator[Connection]:
    opened = Connection(live_server.base)
    try:
        yield opened
    finally:
        opened.close()


def request(path: str, method: str = "GET", version: str = "1.1", extra: str = "") -> bytes:
    return f"{method} {path} HTTP/{version}\r\nHost: airspace\r\n{extra}\r\n".encode()


def granted(live_server: LiveServer, name: str, seconds: int = 600) -> str:
    services = live_server.services
    now = int(services.clock.now().timestamp())
    grant = Grant(SPACE, Scope.REPLAY, Audience.PUBLIC, now + seconds, 0)
    return services.grants.path(grant, name)


@pytest.fixture
def stored_segment(live_server: LiveServer) -> str:
    live_server.services.storage.put(f"spaces/{SPACE}/live/000001.ts", SEGMENT)
    return granted(live_server, "live/000001.ts")


@ON_LOCAL_STORAGE
def test_one_keep_alive_connection_carries_segments_refusals_and_app_routes(
    live_server: LiveServer, stored_segment: str
) -> None:
    with connection(live_server) as client:
        client.send(request(stored_segment))
        read_from_storage = client.read()
        client.send(request(stored_segment))
        from_memory = client.read()
        for served in (read_from_storage, from_memory):
            assert served.status == 200
            assert served.body == SEGMENT
            assert served.headers["content-type"] == "video/mp2t"
            assert served.headers["content-length"] == str(len(SEGMENT))
            assert served.headers["cache-control"].startswith("public, max-age=")
            assert "date" in served.headers
        assert from_memory.headers["etag"] == read_from_storage.headers["etag"]

        client.send(request(stored_segment, "HEAD"))
        head = client.read(head=True)
        assert (head.status, head.headers["content-length"]) == (200, str(len(SEGMENT)))

        etag = from_memory.headers["etag"]
        client.send(request(stored_segment, extra=f"If-None-Match: {etag}\r\n"))
        unchanged = client.read()
        assert (unchanged.status, unchanged.body) == (304, b"")

        forged = stored_segment.replace("/live/", "x/live/")
        client.send(request(forged))
        refused = client.read()
        assert refused.status == 403
        assert refused.headers["content-type"] == "application/json"
        assert "not valid" in json.loads(refused.body)["detail"]

        client.send(request(stored_segment, "POST", extra="Content-Length: 3\r\n") + b"abc")
        assert client.read().status == 405

        client.send(request("/api/v1/health"))
        health = client.read()
        assert health.status == 200
        assert json.loads(health.body)["status"] in ("ok", "degraded")


@ON_LOCAL_STORAGE
def test_pipelined_requests_are_answered_in_order(
    live_server: LiveServer, stored_segment: str
) -> None:
    expired = granted(live_server, "live/000001.ts", seconds=-1)
    with connection(live_server) as client:
        client.send(request(stored_segment))
        assert client.read().status == 200  # now in memory
        client.send(request(stored_segment), request(expired), request("/api/v1/health"))
        client.send(request(stored_segment))
        answers = [client.read() for _ in range(4)]
    assert [answer.status for answer in answers] == [200, 403, 200, 200]
    assert answers[0].body == answers[3].body == SEGMENT
    assert "expired" in json.loads(answers[1].body)["detail"]


@ON_LOCAL_STORAGE
def test_http_1_0_gets_its_answer_and_the_connection_closed(
    live_server: LiveServer, stored_segment: str
) -> None:
    with connection(live_server) as warm:
        warm.send(request(stored_segment))
        assert warm.read().status == 200
    with connection(live_server) as client:
        client.send(request(stored_segment, version="1.0"))
        answer = client.read()
        assert (answer.status, answer.body) == (200, SEGMENT)
        assert answer.headers["connection"] == "close"
        deadline = time.monotonic() + 5
        while not client.closed_by_server():
            assert time.monotonic() < deadline, "the server kept an HTTP/1.0 connection open"
