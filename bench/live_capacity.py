"""Benchmark: live rooms of synthetic WebRTC speakers against a real Airspace server.

    .venv/bin/python bench/live_capacity.py [--rooms 10] [--speakers 4] [--quiet 0] [--seconds 60]
        [--client-processes 2] [--server-cpus 0 --client-cpus 1]

The server runs as its own process (`airspace db upgrade`, then `airspace serve` on a
fresh data directory, on loopback). The speakers are aiortc peers (airspace.media.peer),
spread room by room over client processes. In each room the host sends a 5 ms noise
click every second and silence otherwise; every other speaker sends a quiet tone of its
own pitch, and the first of them keeps what it hears; with ``--quiet N`` the last N of
each room are on stage but silent, as most of a Space's stage is most of the time. Over
the measured window it prints:

- server CPU seconds per speaker leg per second (the server process and its media
  worker processes, read from /proc; the client processes' CPU is reported apart),
- the recorded program of each room (2 s HLS segments): whether the segments are
  contiguous, recorded length against wall-clock live time, and the 20 ms frames missing,
- dropouts: 20 ms program frames in which a tone speaker is missing (its frame came late
  or not at all, so the mix went on without it),
- speaker-to-speaker latency: click handed to the sender -> click heard by another
  speaker in the same room (median and p95),

and whether the target holds: 40 speaker legs with no gap in any recording and a median
speaker-to-speaker latency under 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import multiprocessing
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
from server_process import cpu_list, cpu_seconds, free_port, pin, start_server, tokens_by_command

from airspace.media.peer import FrameSource, SpeakerPeer, tone

RATE = 48_000
FRAME = 960
CLICK_EVERY = 50  # frames: one click a second
CLICK_SAMPLES = 240  # 5 ms
CLICK_LEVEL = 0.8
ONSET_LEVEL = 0.3
TONE_LEVEL = 0.03
TARGET_LEGS = 40
TARGET_LATENCY_MS = 150.0


@dataclass
class Leg:
    room: int
    space_id: str
    token: str
    role: str  # "click", "ear" (tone, and keeps what it hears), "tone" or "quiet" (silence)
    frequency: float = 0.0


@dataclass
class Room:
    index: int
    space_id: str = ""
    started: float = 0.0
    ending: float = 0.0
    legs: list[Leg] = field(default_factory=list)


def click() -> FrameSource:
    burst = np.random.default_rng(7).choice([-CLICK_LEVEL, CLICK_LEVEL], CLICK_SAMPLES)

    def frame(number: int) -> np.ndarray:
        out = np.zeros(FRAME, dtype=np.float32)
        if number % CLICK_EVERY == 0:
            out[:CLICK_SAMPLES] = burst
        return out

    return frame


def silence(number: int) -> np.ndarray:
    """A speaker on stage saying nothing (most of a Space's stage, most of the time)."""
    return np.zeros(FRAME, dtype=np.float32)


def tone_frequency(speaker: int) -> float:
    """Whole cycles in 20 ms (multiples of 50 Hz), so one FFT bin per speaker."""
    return 400.0 + 150.0 * speaker


# --- client processes --------------------------------------------------------------


def run_clients(
    base: str,
    legs: list[Leg],
    conn: Connection,
    buffer: int,
    niceness: int,
    cpus: set[int] | None,
    stagger: float,
    red: bool = True,
) -> None:
    # The synthetic speakers share this machine's cores with the server: at low priority
    # they take only what the server leaves, so the bench measures the server.
    os.nice(niceness)
    if cpus is not None:
        os.sched_setaffinity(0, cpus)
    conn.send(asyncio.run(clients(base, legs, conn, buffer, stagger, red)))


async def clients(
    base: str,
    legs: list[Leg],
    conn: Connection,
    buffer: int,
    stagger: float = 0.0,
    red: bool = True,
) -> dict[str, Any]:
    """Every microphone connects before the window opens, or, with ``stagger``, room
    ``n`` connects ``n * stagger`` seconds into it (the load grows room by room)."""
    peers = [
        SpeakerPeer(
            click()
            if leg.role == "click"
            else silence
            if leg.role == "quiet"
            else tone(leg.frequency, TONE_LEVEL),
            receive_buffer_packets=buffer,
            asks_for_red=red,
        )
        for leg in legs
    ]
    refused: list[tuple[int, float, str]] = []
    loop = asyncio.get_running_loop()
    if stagger:
        conn.send("ready")
        window_start, deadline = await loop.run_in_executor(None, conn.recv)
        cpu = time.process_time()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:

        async def connect(leg: Leg, peer: SpeakerPeer) -> bool:
            offer = await peer.offer()
            answer = await http.post(
                f"/api/v1/spaces/{leg.space_id}/room/microphone",
                json={"type": "offer", "sdp": offer},
                headers={"Authorization": f"Bearer {leg.token}"},
            )
            if answer.status_code == 503:  # the server is too busy: said so, not broken
                refused.append((leg.room, leg.frequency, answer.json().get("detail", "")))
                return False
            answer.raise_for_status()
            await peer.accept(answer.json()["sdp"])
            return True

        async def connect_at(leg: Leg, peer: SpeakerPeer) -> bool:
            if stagger:
                await asyncio.sleep(window_start + leg.room * stagger - time.monotonic())
            return await connect(leg, peer)

        # A room's offers all at once, as when a whole room (re)connects.
        accepted = await asyncio.gather(
            *(connect_at(leg, peer) for leg, peer in zip(legs, peers, strict=True))
        )
    joined = [p for p, ok in zip(peers, accepted, strict=True) if ok]
    waited = time.monotonic()
    for _ in range(300):
        if all(p.pc.connectionState == "connected" for p in joined):
            break
        await asyncio.sleep(0.1)
    states = [p.pc.connectionState for p in joined]
    print(
        f"client {os.getpid()}: {states.count('connected')} of {len(joined)} microphones "
        f"connected after {time.monotonic() - waited:.1f} s"
        + (f" (others: {sorted(set(states) - {'connected'})})" if len(set(states)) > 1 else ""),
        flush=True,
    )
    if not stagger:
        conn.send("ready")
        window_start, deadline = await loop.run_in_executor(None, conn.recv)
        cpu = time.process_time()
    await asyncio.sleep(max(0.0, deadline - time.monotonic()))
    cpu = time.process_time() - cpu
    latencies: dict[int, list[float]] = {}
    clicks: dict[int, tuple[int, int]] = {}
    for leg, peer in zip(legs, peers, strict=True):
        if leg.role == "ear":
            sender = next(
                p
                for g, p in zip(legs, peers, strict=True)
                if g.room == leg.room and g.role == "click"
            )
            found = click_latencies(peer, sender.track.sent, window_start, deadline)
            latencies[leg.room], clicks[leg.room] = found
    await asyncio.gather(*(p.close() for p in peers))
    return {"cpu": cpu, "latencies": latencies, "clicks": clicks, "refused": refused}


def click_latencies(
    ear: SpeakerPeer, sent: dict[int, float], start: float, end: float
) -> tuple[list[float], tuple[int, int]]:
    """Seconds from each click handed to the sender to its onset heard; (heard, sent)."""
    blocks = list(ear.heard.blocks)
    arrivals = list(ear.heard.arrivals)[: len(blocks)]
    sent_clicks = sorted(
        (t, n) for n, t in sent.items() if n % CLICK_EVERY == 0 and start <= t <= end - 1
    )
    if not blocks or not sent_clicks:
        return [], (0, len(sent_clicks))
    audio = np.concatenate(blocks)
    starts = np.cumsum([0] + [len(b) for b in blocks[:-1]])
    found: dict[int, float] = {}
    last = -RATE
    for index in np.flatnonzero(np.abs(audio) > ONSET_LEVEL):
        if index - last < RATE // 2:
            continue
        last = int(index)
        block = int(np.searchsorted(starts, index, side="right")) - 1
        heard = arrivals[block] + (index - starts[block]) / RATE
        before = [(t, n) for t, n in sent_clicks if t < heard]
        if before and before[-1][1] not in found:
            found[before[-1][1]] = heard - before[-1][0]
    return list(found.values()), (len(found), len(sent_clicks))


# --- server and rooms --------------------------------------------------------------


async def open_rooms(
    base: str, data: Path, rooms: int, speakers: int, quiet: int = 0
) -> list[Room]:
    names = [[f"r{r}s{s}" for s in range(speakers)] for r in range(rooms)]
    tokens = await tokens_by_command(data, [n for row in names for n in row])
    out = []
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:

        def post(token: str, path: str, body: dict[str, Any] | None = None) -> Any:
            return http.post(
                f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"}
            )

        for r in range(rooms):
            room = Room(r)
            row = tokens[r * speakers : (r + 1) * speakers]
            host = row[0]
            created = await post(host, "/spaces", {"title": f"Bench room {r}", "record": True})
            created.raise_for_status()
            room.space_id = sid = created.json()["id"]
            (await post(host, f"/spaces/{sid}/start")).raise_for_status()
            room.started = time.monotonic()
            for s, token in enumerate(row):
                (await post(token, f"/spaces/{sid}/room/join")).raise_for_status()
                if s:
                    (await post(token, f"/spaces/{sid}/room/requests")).raise_for_status()
                    (
                        await post(host, f"/spaces/{sid}/room/speakers", {"username": names[r][s]})
                    ).raise_for_status()
                role = (
                    "click"
                    if s == 0
                    else "ear"
                    if s == 1
                    else "quiet"
                    if s >= speakers - quiet
                    else "tone"
                )
                room.legs.append(Leg(r, sid, token, role, tone_frequency(s)))
            out.append(room)
    return out


async def end_rooms(base: str, rooms: list[Room]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:

        async def end(room: Room) -> None:
            room.ending = time.monotonic()
            headers = {"Authorization": f"Bearer {room.legs[0].token}"}
            (
                await http.post(f"/api/v1/spaces/{room.space_id}/end", headers=headers)
            ).raise_for_status()

        await asyncio.gather(*(end(room) for room in rooms))


# --- the recorded program ----------------------------------------------------------


def recording_of(data: Path, space_id: str) -> tuple[bool, float, list[str]]:
    """(contiguous, recorded seconds, segment keys) from the server's database."""
    with sqlite3.connect(data / "airspace.db") as db:
        rows = db.execute(
            "SELECT s.sequence, s.first_sample, s.samples, s.key FROM recording_segments s "
            "JOIN recordings r ON r.id = s.recording_id WHERE r.space_id = ? ORDER BY s.sequence",
            (space_id,),
        ).fetchall()
    contiguous = [r[0] for r in rows] == list(range(len(rows))) and all(
        b[1] == a[1] + a[2] for a, b in itertools.pairwise(rows)
    )
    return contiguous, sum(r[2] for r in rows) / RATE, [r[3] for r in rows]


def dropouts(
    data: Path,
    keys: list[str],
    room: Room,
    start: float,
    end: float,
    refused: set[tuple[int, float]],
) -> tuple[int, int]:
    """Tone-speaker frames (20 ms) of the program in the window that are below half their
    level, and those looked at. Frames at a click are skipped: the codecs spend their bits
    on the transient there and the quiet tones dip. Speakers the server refused (busy)
    are not looked for."""
    stream = b"".join((data / "media" / key).read_bytes() for key in keys)
    with av.open(io.BytesIO(stream), format="mpegts") as container:
        pcm = np.concatenate([f.to_ndarray()[:1].reshape(-1) for f in container.decode(audio=0)])
    first, last = int((start - room.started) * RATE), int((end - room.started) * RATE)
    frames = pcm[first : first + max(0, min(last, len(pcm)) - first) // FRAME * FRAME]
    frames = frames.reshape(-1, FRAME)
    loud = np.abs(frames).max(axis=1, initial=0.0) > ONSET_LEVEL / 2
    frames = frames[~(loud | np.roll(loud, 1) | np.roll(loud, -1))]
    bins = [
        int(leg.frequency / (RATE / FRAME))
        for leg in room.legs
        if leg.role in ("tone", "ear") and (room.index, leg.frequency) not in refused
    ]
    spectrum = np.abs(np.fft.rfft(frames, axis=1)) * 2 / FRAME
    return int((spectrum[:, bins] < TONE_LEVEL / 2).sum()), len(frames) * len(bins)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000 if values else float("nan")


def spin(cpu: int) -> None:
    """Keep one CPU busy (other work on the server's machine) until killed."""
    os.sched_setaffinity(0, {cpu})
    while True:
        pass


def cliff(rooms: list[Room], refused: list[tuple[Any, ...]], args: argparse.Namespace) -> str:
    """Where the server started refusing microphones, as the rooms came in one by one."""
    if not args.stagger or not refused:
        return ""
    first = min(r[0] for r in refused)
    admitted = sum(len(room.legs) for room in rooms[:first])
    return f"\ncliff:            room {first} was the first refused, after {admitted} legs came in"


# --- main --------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=10)
    parser.add_argument("--speakers", type=int, default=4, help="speakers per room, host included")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the server's data directory")
    parser.add_argument(
        "--client-nice",
        type=int,
        default=19,
        metavar="N",
        help="niceness of the client processes (19, the lowest priority: the bench "
        "measures the server, not the synthetic speakers competing with it)",
    )
    parser.add_argument(
        "--client-buffer",
        type=int,
        default=4,
        metavar="PACKETS",
        help="20 ms packets a synthetic speaker buffers before decoding (default: aiortc's 4)",
    )
    parser.add_argument(
        "--server-cpus",
        type=cpu_list,
        metavar="LIST",
        help="CPUs the server and its media workers may use (e.g. 0): with the clients on "
        "the others, the server's own limit shows before the clients'",
    )
    parser.add_argument("--client-cpus", type=cpu_list, metavar="LIST", help="e.g. 1")
    parser.add_argument(
        "--busy-cpus",
        type=cpu_list,
        metavar="LIST",
        help="keep these CPUs busy at normal priority meanwhile (other work on the server's "
        "machine: with --server-cpus, a server with less than a core)",
    )
    parser.add_argument(
        "--stagger",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="room n's microphones connect n * SECONDS into the window instead of before "
        "it: the load grows room by room, and shows where the server starts refusing",
    )
    parser.add_argument(
        "--quiet",
        type=int,
        default=0,
        metavar="N",
        help="speakers per room on stage but silent (the last N; not the clicking host "
        "nor the listening speaker)",
    )
    parser.add_argument(
        "--no-red",
        action="store_true",
        help="microphones send plain Opus, not Opus in RED (each packet with the one before)",
    )
    args = parser.parse_args()
    if args.speakers < 2:
        parser.error("--speakers must be at least 2 (one clicks, one listens)")
    if not 0 <= args.quiet <= args.speakers - 2:
        parser.error("--quiet must leave the host and one listening speaker")
    print("$", shlex.join(sys.orig_argv), "\n")
    data = Path(tempfile.mkdtemp(prefix="airspace-bench-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(data, port)
    if args.server_cpus:
        pin(server.pid, args.server_cpus)  # before the first room starts the media workers
    try:
        report(args, data, base, server)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        if args.keep:
            print(f"\ndata directory: {data}")
        else:
            shutil.rmtree(data, ignore_errors=True)


def report(
    args: argparse.Namespace, data: Path, base: str, server: subprocess.Popen[bytes]
) -> None:
    setup = time.monotonic()
    rooms = asyncio.run(open_rooms(base, data, args.rooms, args.speakers, args.quiet))
    processes = max(1, min(args.client_processes, len(rooms)))
    spawn = multiprocessing.get_context("spawn")
    workers = []
    for w in range(processes):
        ours, theirs = spawn.Pipe()
        legs = [leg for room in rooms[w::processes] for leg in room.legs]
        worker = spawn.Process(
            target=run_clients,
            args=(
                base,
                legs,
                theirs,
                args.client_buffer,
                args.client_nice,
                args.client_cpus,
                args.stagger,
                not args.no_red,
            ),
            daemon=True,
        )
        worker.start()
        theirs.close()
        workers.append((worker, ours))
    try:
        for _, conn in workers:
            assert conn.recv() == "ready"
    except EOFError:
        raise SystemExit("a client process failed (its traceback is above)") from None
    legs = args.rooms * args.speakers
    print(
        f"{args.rooms} rooms x {args.speakers} speakers ({args.quiet} silent) = {legs} legs; setup {time.monotonic() - setup:.1f} s; {processes} client processes; "
        f"client receive buffer {args.client_buffer} packets; clients at nice {args.client_nice}; "
        f"{'plain Opus' if args.no_red else 'Opus in RED'}"
        f"{f'; server on CPUs {sorted(args.server_cpus)}' if args.server_cpus else ''}"
        f"{f', clients on {sorted(args.client_cpus)}' if args.client_cpus else ''}\n"
    )
    busy = [spawn.Process(target=spin, args=(cpu,), daemon=True) for cpu in args.busy_cpus or ()]
    for each in busy:
        each.start()
    start = time.monotonic()
    deadline = start + args.seconds
    main_cpu, media_cpu = cpu_seconds(server.pid)
    for _, conn in workers:
        conn.send((start, deadline))
    time.sleep(max(0.0, deadline - time.monotonic()))
    main_after, media_after = cpu_seconds(server.pid)
    main_cpu, media_cpu = main_after - main_cpu, media_after - media_cpu
    server_cpu = main_cpu + media_cpu
    window = time.monotonic() - start
    for each in busy:
        each.kill()
    asyncio.run(end_rooms(base, rooms))
    results = [conn.recv() for _, conn in workers]
    for worker, _ in workers:
        worker.join(30)
    latencies = {r: v for res in results for r, v in res["latencies"].items()}
    clicks = {r: v for res in results for r, v in res["clicks"].items()}
    client_cpu = sum(res["cpu"] for res in results)
    refused = [tuple(r) for res in results for r in res["refused"]]
    refused_legs = {(r[0], r[1]) for r in refused}

    print(
        "| room | legs | refused | wall s | recorded s | gap frames | contiguous | dropouts | clicks heard | median ms | p95 ms |"
    )
    print("|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|---:|")
    everyone: list[float] = []
    gaps = lost = looked = steady_lost = steady_looked = 0
    ramp_end = start + args.rooms * args.stagger + 2.0  # the last room's microphones in
    intact = True
    for room in rooms:
        contiguous, recorded, keys = recording_of(data, room.space_id)
        contiguous = contiguous and bool(keys)
        wall = room.ending - room.started
        missing = max(0, round((wall - recorded) / 0.02))
        settle = 2.0 if args.stagger else 0.0  # a room joining mid-window connects first
        joined = start + room.index * args.stagger + settle
        dropped, counted = (
            dropouts(data, keys, room, joined + 1, deadline - 1, refused_legs) if keys else (0, 0)
        )
        turned_away = sum(1 for r in refused if r[0] == room.index)
        if args.stagger and keys and deadline - 1 > ramp_end:
            dropped_late, counted_late = dropouts(
                data, keys, room, ramp_end, deadline - 1, refused_legs
            )
            steady_lost, steady_looked = steady_lost + dropped_late, steady_looked + counted_late
        found = latencies.get(room.index, [])
        heard, sent = clicks.get(room.index, (0, 0))
        everyone += found
        gaps, lost, looked = gaps + missing, lost + dropped, looked + counted
        intact = intact and contiguous
        print(
            f"| {room.index} | {len(room.legs)} | {turned_away} | {wall:.2f} | {recorded:.2f} | {missing} | "
            f"{'yes' if contiguous else 'no'} | {dropped}/{counted} | {heard}/{sent} | "
            f"{pct(found, 50):.0f} | {pct(found, 95):.0f} |"
        )
    median = pct(everyone, 50)
    per_leg = 1000 / (max(1, legs - len(refused)) * window)  # legs the server carried
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    met = legs >= TARGET_LEGS and intact and gaps == 0 and median < TARGET_LATENCY_MS
    verdict = (
        "met" if met else "not met" + (f" (only {legs} legs here)" if legs < TARGET_LEGS else "")
    )
    print(f"""
measured window:  {window:.1f} s, {legs} speaker legs, {os.cpu_count()} CPUs, load average {load}
server CPU:       {server_cpu:.1f} s = {server_cpu / window:.2f} cores = {
        server_cpu * per_leg:.1f} ms per leg per second
  media workers:  {media_cpu:.1f} s = {
        media_cpu
        * per_leg:.1f} ms per leg per second (speaker legs, mixing, recording: AAC, storage)
  main process:   {main_cpu:.1f} s = {
        main_cpu * per_leg:.1f} ms per leg per second (API, listing segments)
client CPU:       {client_cpu:.1f} s = {client_cpu / window:.2f} cores = {
        client_cpu * per_leg:.1f} ms per leg per second ({len(workers)} processes)
recordings:       {"all contiguous" if intact else "NOT all contiguous"}; {
        gaps
    } frames missing against the wall clock
program dropouts: {lost} of {looked} tone-speaker frames ({lost / max(1, looked):.2%}){
        f"; after the last room came in, {steady_lost} of {steady_looked} "
        f"({steady_lost / max(1, steady_looked):.2%})"
        if args.stagger
        else ""
    }
latency:          median {median:.0f} ms, p95 {pct(everyone, 95):.0f} ms over {len(everyone)} clicks
refused:          {len(refused)} microphones{f" ({refused[0][2]})" if refused else ""}{
        cliff(rooms, refused, args)
    }
target ({TARGET_LEGS} legs, no gap in any recording, median < {TARGET_LATENCY_MS:.0f} ms): {
        verdict
    }""")


if __name__ == "__main__":
    main()
