"""Benchmark: thousands of HLS listeners on one live Space, against nginx on the same files.

    .venv/bin/python bench/listeners.py [--listeners 3000] [--seconds 60] [--ramp 15]

A real Airspace server (its own process, fresh data directory, embedded default) runs a
recorded Space with a bot speaker (an aiortc peer sending a tone). N listeners, each on
its own keep-alive connection, do what a player does: open the page's playlist address
once (the access check, which redirects to the granted playlist), then fetch the
playlist every 2 s and every segment it names that they have not fetched yet. After the
measured window the same request mix runs against nginx (Debian's, one worker) serving
the same files from a directory: the playlist rewritten every 2 s to slide over the
recorded segments like a live edge.

It prints, for each server: CPU-seconds per 1,000 listener-minutes, requests per server
CPU-second, p50/p99 latency of playlists and segments, errors, the load generator's own
CPU (apart), and the ratio of Airspace's requests per CPU-second to nginx's; then the
recording's duration against the live time. Targets: ≥ 0.3 times nginx's requests per
CPU-second; 3,000 listeners with 0 errors and p99 < 1 s; duration within ±0.5 s.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvloop
from server_process import cpu_seconds, free_port, start_server, token_for

from airspace.media.peer import SpeakerPeer, tone

PLAYLIST_EVERY = 2.0
IDLE_SECONDS = 10.0
"""How long the live Space runs with no listener first, to tell what the room costs."""
TARGET_RATIO = 0.3
TARGET_P99 = 1.0
TARGET_DURATION_ERROR = 0.5
NGINX = "/usr/sbin/nginx"


def raise_file_limit() -> None:
    """A connection per listener: as many open files as the hard limit allows."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the load generator: a lean HTTP/1.1 keep-alive client per listener -----------------


class KeepAlive:
    """One keep-alive HTTP/1.1 connection; one request at a time, as a player makes them."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, cookie: str | None) -> tuple[int, dict[bytes, bytes], bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        extra = f"Cookie: {cookie}\r\n" if cookie else ""
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{extra}\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name:
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get(b"content-length", b"0"))
        body = await self.reader.readexactly(length) if length else b""
        if headers.get(b"connection") == b"close":
            self.writer.close()
            self.writer = None
        return status, headers, body


@dataclass
class Tally:
    entry: list[float] = field(default_factory=list)
    """The access check each listener passes once, on arrival (before the window)."""
    playlist: list[float] = field(default_factory=list)
    segment: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    bytes: int = 0

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def listener(
    host: str, port: int, entry: str, start_at: float, window: tuple[float, float], tally: Tally
) -> None:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    http = KeepAlive(host, port)
    cookie: str | None = None
    playlist_path = entry
    fetched: set[bytes] = set()
    begin, end = window
    while time.monotonic() < end:
        tick = time.monotonic()
        try:
            status, headers, body = await http.get(playlist_path, cookie)
            if status == 302:  # the access check: the playlist under a grant
                if playlist_path == entry:
                    tally.entry.append(time.monotonic() - tick)
                playlist_path = headers[b"location"].decode()
                status, headers, body = await http.get(playlist_path, cookie)
            if b"set-cookie" in headers:
                cookie = headers[b"set-cookie"].split(b";")[0].decode()
            took = time.monotonic() - tick
            if begin <= tick < end:
                tally.playlist.append(took)
                if status != 200:
                    tally.error(f"playlist {status}")
            base = playlist_path.rsplit("/", 1)[0] + "/"
            for line in body.splitlines():
                if not line or line.startswith(b"#") or line in fetched:
                    continue
                if not fetched:  # a player starts near the live edge
                    fetched.update(u for u in body.splitlines()[:-1] if u and u[:1] != b"#")
                    if line in fetched:
                        continue
                fetched.add(line)
                at = time.monotonic()
                status, _, segment = await http.get(base + line.decode(), cookie)
                if begin <= at < end:
                    tally.segment.append(time.monotonic() - at)
                    tally.bytes += len(segment)
                    if status != 200:
                        tally.error(f"segment {status}")
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            if begin <= tick < end:
                tally.error(type(exc).__name__)
            http = KeepAlive(host, port)
        await asyncio.sleep(max(0.0, tick + PLAYLIST_EVERY - time.monotonic()))


def run_load(
    base: str, entry: str, listeners: int, ramp: float, window: tuple[float, float]
) -> dict[str, Any]:
    raise_file_limit()
    host, port = base.removeprefix("http://").split(":")
    tally = Tally()

    async def everyone() -> None:
        now = time.monotonic()
        await asyncio.gather(
            *(
                listener(host, int(port), entry, now + ramp * i / listeners, window, tally)
                for i in range(listeners)
            )
        )

    cpu = time.process_time()
    uvloop.run(everyone())
    return {
        "entry": tally.entry,
        "playlist": tally.playlist,
        "segment": tally.segment,
        "errors": tally.errors,
        "bytes": tally.bytes,
        "cpu": time.process_time() - cpu,
    }


def measure(
    name: str,
    pids: list[int],
    base: str,
    entry: str,
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Drive the listeners (in their own processes) against a server and read the
    server's CPU over the measured window."""
    begin = time.monotonic() + args.ramp + 3.0
    window = (begin, begin + args.seconds)
    processes = args.client_processes
    profiler = None
    shares = [
        args.listeners // processes + (i < args.listeners % processes) for i in range(processes)
    ]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pending = pool.starmap_async(
            run_load, [(base, entry, n, args.ramp, window) for n in shares]
        )
        time.sleep(max(0.0, begin - time.monotonic()))
        if args.profile and name == "airspace":
            profiler = subprocess.Popen(
                [
                    "py-spy",
                    "record",
                    "-p",
                    str(pids[0]),
                    "-d",
                    str(int(args.seconds)),
                    "-o",
                    args.profile,
                    "-r",
                    "50",
                    "-f",
                    "raw" if args.profile.endswith(".txt") else "flamegraph",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        before = sum(sum(cpu_seconds(pid)) for pid in pids)
        time.sleep(args.seconds)
        after = sum(sum(cpu_seconds(pid)) for pid in pids)
        parts = pending.get()
    if profiler is not None:
        profiler.wait()
    merged: dict[str, Any] = {
        "entry": [],
        "playlist": [],
        "segment": [],
        "errors": {},
        "bytes": 0,
        "cpu": 0.0,
    }
    for part in parts:
        for key in ("entry", "playlist", "segment", "bytes", "cpu"):
            merged[key] += part[key]
        for what, count in part["errors"].items():
            merged["errors"][what] = merged["errors"].get(what, 0) + count
    merged["server_cpu"] = after - before
    merged["name"] = name
    return merged


# --- the Space: a recorded live Space with a bot speaker ---------------------------------


@dataclass
class LiveSpace:
    base: str
    token: str
    space_id: str = ""
    started: float = 0.0
    ended: float = 0.0
    peer: SpeakerPeer | None = None

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def start(self) -> None:
        async with httpx.AsyncClient(base_url=self.base, timeout=60, headers=self.headers()) as h:
            created = await h.post("/api/v1/spaces", json={"title": "Listeners", "record": True})
            created.raise_for_status()
            self.space_id = created.json()["id"]
            (await h.post(f"/api/v1/spaces/{self.space_id}/start")).raise_for_status()
            self.started = time.monotonic()
            (await h.post(f"/api/v1/spaces/{self.space_id}/room/join")).raise_for_status()
            self.peer = SpeakerPeer(tone(440.0, 0.2))
            answer = await h.post(
                f"/api/v1/spaces/{self.space_id}/room/microphone",
                json={"type": "offer", "sdp": await self.peer.offer()},
            )
            answer.raise_for_status()
            await self.peer.accept(answer.json()["sdp"])

    async def end(self) -> float:
        """End the Space; returns the recording's duration once it is available."""
        async with httpx.AsyncClient(base_url=self.base, timeout=60, headers=self.headers()) as h:
            (await h.post(f"/api/v1/spaces/{self.space_id}/end")).raise_for_status()
            self.ended = time.monotonic()
            if self.peer is not None:
                await self.peer.close()
            for _ in range(600):
                body = (await h.get(f"/api/v1/spaces/{self.space_id}/recording")).json()
                if body["state"] == "available":
                    return float(body["duration_seconds"])
                await asyncio.sleep(0.1)
        raise SystemExit("the recording did not become available")


# --- nginx on the same files ---------------------------------------------------------


NGINX_CONF = """
worker_processes 1;
error_log {dir}/error.log;
pid {dir}/nginx.pid;
worker_rlimit_nofile 65536;
events {{ worker_connections 16384; }}
http {{
    types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
    access_log {dir}/access.log;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        location ~ \\.m3u8$ {{ add_header Cache-Control no-cache; }}
        location ~ \\.ts$ {{ add_header Cache-Control "public, max-age=3600, immutable"; }}
    }}
}}
"""


def live_edge(segments: list[Path], upto: int, window: int = 6) -> str:
    shown = segments[max(0, upto - window) : upto]
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        "#EXT-X-TARGETDURATION:2",
        f"#EXT-X-MEDIA-SEQUENCE:{max(0, upto - window)}",
    ]
    for path in shown:
        lines += ["#EXTINF:2.000000,", f"live/{path.name}"]
    return "\n".join(lines) + "\n"


def nginx_run(data: Path, space_id: str, args: argparse.Namespace) -> dict[str, Any]:
    work = data / "nginx"
    www = work / "www"
    (www / "live").mkdir(parents=True)
    segments = sorted((data / "media" / "spaces" / space_id / "live").glob("*.ts"))
    for path in segments:
        shutil.copyfile(path, www / "live" / path.name)
    copies = sorted((www / "live").glob("*.ts"))
    port = free_port()
    (work / "nginx.conf").write_text(NGINX_CONF.format(dir=work, port=port))
    playlist = www / "live.m3u8"

    def slide(upto: int) -> None:
        tmp = www / ".live.m3u8"
        tmp.write_text(live_edge(copies, upto))
        os.replace(tmp, playlist)

    slide(6)
    server = subprocess.Popen(
        [NGINX, "-p", str(work), "-c", str(work / "nginx.conf"), "-g", "daemon off;"]
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/live.m3u8", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        stop = False

        def edge() -> None:
            upto = 6
            while not stop:
                time.sleep(PLAYLIST_EVERY)
                upto = upto + 1 if upto < len(copies) else 6
                slide(upto)

        sliding = threading.Thread(target=edge, daemon=True)
        sliding.start()
        # cpu_seconds counts the master and every process under it (its worker).
        pids = [server.pid]
        result = measure("nginx", pids, f"http://127.0.0.1:{port}", "/live.m3u8", args)
        stop = True
        return result
    finally:
        server.terminate()
        server.wait(10)


# --- report ------------------------------------------------------------------------


def row(result: dict[str, Any], args: argparse.Namespace) -> tuple[str, float]:
    requests = len(result["playlist"]) + len(result["segment"])
    cpu = result["server_cpu"]
    per_cpu = requests / cpu if cpu else float("inf")
    listener_minutes = args.listeners * args.seconds / 60
    errors = sum(result["errors"].values())
    everything = result["playlist"] + result["segment"]

    def ms(values: list[float], q: float) -> str:
        return f"{np.percentile(values, q) * 1000:.0f}" if values else "-"

    line = (
        f"| {result['name']} | {requests / args.seconds:.0f} | {cpu:.1f} | "
        f"{cpu / listener_minutes * 1000:.1f} | {per_cpu:.0f} | "
        f"{ms(result['playlist'], 50)} / {ms(result['playlist'], 99)} | "
        f"{ms(result['segment'], 50)} / {ms(result['segment'], 99)} | "
        f"{ms(everything, 99)} | {errors} | {result['cpu']:.1f} |"
    )
    return line, per_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--listeners", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--ramp", type=float, default=30.0, help="seconds over which listeners arrive"
    )
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the server's main process with py-spy meanwhile (.svg, or .txt: raw)",
    )
    args = parser.parse_args()
    if not Path(NGINX).exists():
        raise SystemExit("nginx is needed for the side-by-side run: apt-get install nginx")
    raise_file_limit()
    print("$", shlex.join(sys.orig_argv), "\n")
    data = Path(tempfile.mkdtemp(prefix="airspace-bench-"))
    data.chmod(0o755)  # nginx's worker runs as another user
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(data, port, {"AIRSPACE_MEDIA_WORKERS": "1"})
    try:
        space = LiveSpace(base, asyncio.run(token_for(base, "host")))
        # The bot speaker lives on a loop of its own for the whole Space.
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(space.start(), loop).result()
        time.sleep(2 * PLAYLIST_EVERY + 1)  # a few segments at the live edge
        idle = sum(cpu_seconds(server.pid))
        time.sleep(IDLE_SECONDS)
        idle = (sum(cpu_seconds(server.pid)) - idle) / IDLE_SECONDS
        ours = measure(
            "airspace", [server.pid], base, f"/i/spaces/{space.space_id}/live.m3u8", args
        )
        duration = asyncio.run_coroutine_threadsafe(space.end(), loop).result()
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
    theirs = nginx_run(data, space.space_id, args)
    live = space.ended - space.started
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(
        f"{args.listeners} listeners (playlist every {PLAYLIST_EVERY:.0f} s, each new segment), "
        f"{args.seconds:.0f} s measured after a {args.ramp:.0f} s ramp; "
        f"{os.cpu_count()} CPUs, load average {load}\n"
    )
    print(
        "| server | requests/s | server CPU s | CPU s per 1,000 listener-min | requests per "
        "CPU s | playlist p50/p99 ms | segment p50/p99 ms | p99 ms | errors | load generator CPU s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    our_line, our_rate = row(ours, args)
    their_line, their_rate = row(theirs, args)
    print(our_line)
    print(their_line)
    ratio = our_rate / their_rate
    everything = ours["playlist"] + ours["segment"]
    p99 = float(np.percentile(everything, 99)) if everything else float("inf")
    errors = sum(ours["errors"].values())
    print(
        f"\nthe live room itself, before any listener (bot speaker, mixing, AAC, storage): "
        f"{idle:.2f} cores, included above"
    )
    entries = ours["entry"]
    if entries:
        print(
            f"\naccess check on arrival (Airspace, during the ramp): p50 "
            f"{np.percentile(entries, 50) * 1000:.0f} ms, p99 {np.percentile(entries, 99) * 1000:.0f} ms"
        )
    print(f"\nerrors: airspace {ours['errors'] or 'none'}; nginx {theirs['errors'] or 'none'}")
    print(
        f"ratio, requests per server CPU-second, airspace / nginx: {ratio:.2f} "
        f"(target ≥ {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'not met'})"
    )
    print(
        f"{args.listeners} listeners: {errors} errors, p99 {p99 * 1000:.0f} ms "
        f"(target 0 errors, p99 < {TARGET_P99 * 1000:.0f} ms: "
        f"{'met' if errors == 0 and p99 < TARGET_P99 else 'not met'})"
    )
    off = duration - live
    print(
        f"recording: {duration:.2f} s for {live:.2f} s live ({off:+.2f} s; target ±"
        f"{TARGET_DURATION_ERROR}: {'met' if abs(off) <= TARGET_DURATION_ERROR else 'not met'})"
    )
    if args.keep:
        print(f"\ndata directory: {data}")
    else:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
