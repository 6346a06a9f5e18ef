"""Build and serve an HLS recording of speech for the benchmarks."""

from __future__ import annotations

import hashlib
import subprocess
import tempfile
import threading
import wave
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from airspace.media.aac import AacEncoder
from airspace.media.hls_segments import (
    PlaylistEntry,
    media_playlist,
    mpegts_segment,
    segment_frames,
)

SAMPLE_RATE = 48_000
SENTENCES = [
    "Welcome back to the show, today we are talking about self hosted audio.",
    "The recording starts the moment the host goes live and ends when the host ends it.",
    "Listeners hear one mixed program stream, while speakers hear everyone but themselves.",
    "Captions are made after the end, and every output honours the edited start time.",
    "Downloads fetch many segments at once and convert them on every core.",
    "A damaged segment is tried again, and if it stays bad it becomes silence of its length.",
    "Thank you all for joining, and see you next week for another conversation.",
]


def speech(seconds: float) -> np.ndarray:
    """espeak-ng speech (several voices and speeds), repeated to ``seconds``."""
    pieces = []
    with tempfile.TemporaryDirectory() as tmp:
        for index, sentence in enumerate(SENTENCES * 3):
            path = Path(tmp) / f"{index}.wav"
            voice = ["en-us", "en", "en-us+f3", "en+m3"][index % 4]
            subprocess.run(
                [
                    "espeak-ng",
                    "-v",
                    voice,
                    "-s",
                    str(150 + 10 * (index % 5)),
                    "-w",
                    str(path),
                    sentence,
                ],
                check=True,
            )
            with wave.open(str(path)) as wav:
                rate = wav.getframerate()
                data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
            pcm = data.astype(np.float32) / 32768
            # espeak-ng speaks at 22.05 kHz; resample linearly to 48 kHz.
            positions = np.arange(0, len(pcm) - 1, rate / SAMPLE_RATE)
            pieces.append(np.interp(positions, np.arange(len(pcm)), pcm).astype(np.float32))
            pieces.append(np.zeros(SAMPLE_RATE // 3, dtype=np.float32))
    block = np.concatenate(pieces)
    repeats = int(np.ceil(seconds * SAMPLE_RATE / len(block)))
    return np.tile(block, repeats)[: int(seconds * SAMPLE_RATE)]


def build(directory: Path, minutes: float) -> Path:
    """A VOD HLS recording of ``speech`` (AAC-LC 64 kb/s mono 48 kHz, 2 s MPEG-TS
    segments); cached."""
    marker = directory / f"done-{minutes}"
    if marker.exists():
        return directory / "index.m3u8"
    playlist = write_hls(directory, speech(minutes * 60))
    marker.write_text(hashlib.sha256(playlist.read_bytes()).hexdigest())
    return playlist


def write_hls(directory: Path, pcm: np.ndarray) -> Path:
    """``pcm`` (float32 mono 48 kHz) as a VOD HLS recording in ``directory``; the playlist."""
    directory.mkdir(parents=True, exist_ok=True)
    encoder = AacEncoder()
    frames: list[bytes] = []
    step = SAMPLE_RATE * 10
    for start in range(0, len(pcm), step):
        frames += encoder.encode(pcm[start : start + step])
    frames += encoder.flush()
    entries, position = [], 0
    for index, group in enumerate(segment_frames(frames, 2.0, SAMPLE_RATE)):
        name = f"seg{index:05d}.ts"
        (directory / name).write_bytes(mpegts_segment(group, position))
        entries.append(PlaylistEntry(name, len(group) * 1024 / SAMPLE_RATE))
        position += len(group) * 1024
    playlist = directory / "index.m3u8"
    playlist.write_text(media_playlist(entries, vod=True))
    return playlist


class QuietHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_: object) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients closing connections early are not news


def serve(directory: Path) -> tuple[str, ThreadingHTTPServer]:
    server = QuietServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def serve_with_latency(directory: Path, latency_ms: float, port_queue: object) -> None:
    """Serve ``directory`` from memory, answering each request after ``latency_ms``, as a
    distant CDN would (run in its own process; puts the URL on ``port_queue``)."""
    import asyncio

    from aiohttp import web

    files = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    types = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}

    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(latency_ms / 1000)
        name = request.match_info["name"]
        if name not in files:
            return web.Response(status=404)
        return web.Response(
            body=files[name], content_type=types.get(Path(name).suffix, "application/octet-stream")
        )

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/{name}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        port_queue.put(f"http://127.0.0.1:{port}")  # type: ignore[attr-defined]
        await asyncio.Event().wait()

    asyncio.run(main())
