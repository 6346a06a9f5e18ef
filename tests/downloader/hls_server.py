"""A real HTTP server on loopback that serves generated HLS and injects faults."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from airspace.media.constants import AAC_FRAME_SAMPLES
from airspace.media.hls_segments import (
    PlaylistEntry,
    media_playlist,
    mpegts_segment,
    packed_audio_segment,
    segment_frames,
)
from tests.audio import SAMPLE_RATE, aac_frames, tone_bursts

Handler = Callable[["Request"], "Reply"]


@dataclass
class Request:
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    drop_after: int | None = None
    """Close the connection after this many body bytes (a dropped transfer)."""
    chunked: bool = False
    """Send the body in 1 kB chunks with no Content-Length (as a live origin may)."""
    bytes_per_second: float | None = None
    """Trickle the body at this rate (a server, or a client's link, that crawls)."""


@dataclass
class Recording:
    """Generated audio cut into HLS segments."""

    pcm: np.ndarray
    frames: list[bytes]
    groups: list[list[bytes]]
    kind: str

    @property
    def segments(self) -> list[bytes]:
        out, position = [], 0
        pack = mpegts_segment if self.kind == "ts" else packed_audio_segment
        for group in self.groups:
            out.append(pack(group, position))
            position += len(group) * AAC_FRAME_SAMPLES
        return out

    @property
    def extension(self) -> str:
        return "ts" if self.kind == "ts" else "aac"

    def durations(self) -> list[float]:
        return [len(g) * AAC_FRAME_SAMPLES / SAMPLE_RATE for g in self.groups]

    def playlist(
        self,
        prefix: str = "seg",
        *,
        first: int = 0,
        last: int | None = None,
        ended: bool = True,
        start_offset: float | None = None,
    ) -> str:
        durations = self.durations()
        stop = len(durations) if last is None else last
        entries = [
            PlaylistEntry(f"{prefix}{i}.{self.extension}", durations[i]) for i in range(first, stop)
        ]
        return media_playlist(
            entries, media_sequence=first, ended=ended, vod=ended, start_offset=start_offset
        )


def make_recording(seconds: float, kind: str = "ts", seed: int = 1) -> Recording:
    return recording_of(tone_bursts(seconds, seed), kind)


def recording_of(pcm: np.ndarray, kind: str = "ts") -> Recording:
    frames = aac_frames(pcm)
    return Recording(pcm, frames, segment_frames(frames, 2.0, SAMPLE_RATE), kind)


class FakeServer:
    """Routes are exact paths; ``faults[path]`` is a list of replies used up one per request."""

    def __init__(self) -> None:
        self.routes: dict[str, Handler] = {}
        self.faults: dict[str, list[Reply]] = defaultdict(list)
        self.hits: dict[str, int] = defaultdict(int)
        self.delay: dict[str, float] = {}
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        _host, port = self._server.server_address[:2]
        return f"http://127.0.0.1:{port}"

    def static(self, path: str, body: bytes | str, content_type: str | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        kind = content_type or (
            "application/vnd.apple.mpegurl"
            if path.endswith(".m3u8")
            else "application/octet-stream"
        )
        self.routes[path] = lambda _request: Reply(200, data, kind)

    def json(self, path: str, value: object, status: int = 200) -> None:
        data = json.dumps(value).encode()
        self.routes[path] = lambda _request: Reply(status, data, "application/json")

    def serve_recording(self, recording: Recording, prefix: str = "/hls/") -> str:
        """Serve every segment and a VOD playlist; returns the playlist URL."""
        for index, segment in enumerate(recording.segments):
            self.static(f"{prefix}seg{index}.{recording.extension}", segment)
        self.static(f"{prefix}index.m3u8", recording.playlist())
        return f"{self.url}{prefix}index.m3u8"

    def handle(self, request: Request) -> Reply:
        self.hits[request.path] += 1
        if self.delay.get(request.path):
            time.sleep(self.delay[request.path])
        if self.faults.get(request.path):
            return self.faults[request.path].pop(0)
        handler = self.routes.get(request.path)
        if handler is None:
            return Reply(404, b"not found", "text/plain")
        return handler(request)

    @contextmanager
    def running(self) -> Iterator[FakeServer]:
        fake = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                path, _, query = self.path.partition("?")
                request = Request(path, query, dict(self.headers.items()), self.rfile.read(length))
                reply = fake.handle(request)
                body = reply.body
                if "range" in {k.lower() for k in self.headers} and reply.status == 200:
                    spec = self.headers["range"].removeprefix("bytes=")
                    start, _, end = spec.partition("-")
                    body = body[int(start) : int(end) + 1 if end else None]
                    reply = Reply(206, body, reply.content_type, reply.headers, reply.drop_after)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                if reply.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if reply.chunked:
                    for start in range(0, len(body), 1024):
                        piece = body[start : start + 1024]
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    self.wfile.write(b"0\r\n\r\n")
                    return
                if reply.bytes_per_second is not None:
                    for start in range(0, len(body), 100):
                        time.sleep(100 / reply.bytes_per_second)
                        try:
                            self.wfile.write(body[start : start + 100])
                            self.wfile.flush()
                        except OSError:  # the client gave up
                            return
                    return
                if reply.drop_after is not None:
                    self.wfile.write(body[: reply.drop_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
