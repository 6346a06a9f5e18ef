"""Benchmark: `airspace download` against yt-dlp and ffmpeg on the same HLS recording.

    .venv/bin/python bench/download.py [--minutes 90] [--rounds 3]

Needs ffmpeg (apt-get install ffmpeg), espeak-ng, and yt-dlp (pip install yt-dlp).
The recording is served from a separate process on loopback. Prints the median wall
time of each tool over the rounds, and the ratios the targets are stated in.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mutagen
from hls_fixture import build, serve, serve_with_latency

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache" / "hls"


def tools(url: str, airspace: str, ytdlp: str) -> dict[str, list[str]]:
    airspace_mp3 = [airspace, "download", url, "-q", "-f", "mp3", "-o", "out.%(ext)s"]
    return {
        "airspace mp3": airspace_mp3,
        # The same with Debian's libmp3lame instead of Pedalboard's LAME (airspace[fast-mp3]).
        "airspace mp3 debian-lame": ["env", "AIRSPACE_LAME_LIBRARY=system", *airspace_mp3],
        "airspace m4a": [airspace, "download", url, "-q", "-f", "m4a", "-o", "out.%(ext)s"],
        "yt-dlp mp3": [
            ytdlp,
            "-q",
            "-N",
            "8",
            "-x",
            "--audio-format",
            "mp3",
            "-o",
            "out.%(ext)s",
            url,
        ],
        "ffmpeg mp3": [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            url,
            "-c:a",
            "libmp3lame",
            "-q:a",
            "5",
            "out.mp3",
        ],
        "ffmpeg m4a copy": ["ffmpeg", "-v", "error", "-i", url, "-c", "copy", "out.m4a"],
    }


def machine_cpu_seconds() -> tuple[float, float]:
    """CPU time the machine has spent busy (every process: the tool, its children, and
    the server), and time the hypervisor gave to other machines (steal), from /proc/stat.

    A tool's CPU time does not depend on what else is running the way its wall time does;
    steal shows when this virtual machine was itself slowed down."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    ticks = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / ticks, steal / ticks


def server_process(directory: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    url, server = serve(Path(directory))
    queue.put(url)
    server.serve_forever()


NGINX_CONF = """
user root;
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    types {{ application/vnd.apple.mpegurl m3u8; video/mp2t ts; }}
    client_body_temp_path {work}; proxy_temp_path {work}; fastcgi_temp_path {work};
    uwsgi_temp_path {work}; scgi_temp_path {work};
    server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
"""


def start_server(
    directory: Path, work: Path
) -> tuple[str, subprocess.Popen[bytes] | multiprocessing.Process]:
    """nginx on loopback when installed (as a CDN would serve it), else Python's server."""
    if shutil.which("nginx"):
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        conf = work / "nginx.conf"
        conf.write_text(NGINX_CONF.format(work=work, port=port, root=directory))
        process = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(work)])
        time.sleep(0.5)
        return f"http://127.0.0.1:{port}", process
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    server = multiprocessing.Process(
        target=server_process, args=(str(directory), queue), daemon=True
    )
    server.start()
    return queue.get(timeout=30), server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=90)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="answer every request after this delay, as a distant CDN would "
        "(0: nginx on loopback, no added delay)",
    )
    parser.add_argument(
        "--only",
        help="comma-separated tools to run (for example 'airspace m4a,ffmpeg m4a copy')",
    )
    args = parser.parse_args()
    airspace = str(Path(sys.executable).with_name("airspace"))
    ytdlp = shutil.which("yt-dlp") or str(Path(sys.executable).with_name("yt-dlp"))
    for needed in ("ffmpeg", ytdlp, airspace):
        if not shutil.which(needed):
            sys.exit(f"error: {needed} is not installed (see this script's docstring)")
    # Airspace's bytecode, as an installed wheel has it (yt-dlp's came with its install).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src")],
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    directory = CACHE / f"{args.minutes:g}min"
    started = time.monotonic()
    playlist = build(directory, args.minutes)
    print(
        f"recording: {args.minutes:g} min of espeak-ng speech, AAC-LC 64 kb/s mono 48 kHz, "
        f"{len(list(directory.glob('*.ts')))} segments of 2 s (built in {time.monotonic() - started:.0f} s)"
    )
    work = Path(tempfile.mkdtemp(prefix="bench-server-"))
    if args.latency_ms:
        queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
        server: subprocess.Popen[bytes] | multiprocessing.Process = multiprocessing.Process(
            target=serve_with_latency,
            args=(directory.resolve(), args.latency_ms, queue),
            daemon=True,
        )
        server.start()
        base = queue.get(timeout=60)
        print(f"served from memory by aiohttp on loopback, {args.latency_ms:g} ms per request")
    else:
        base, server = start_server(directory.resolve(), work)
        kind = "nginx" if isinstance(server, subprocess.Popen) else "Python's http.server"
        print(f"served by {kind} on loopback, no added delay")
    url = f"{base}/{playlist.name}"
    times: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    durations: dict[str, float] = {}
    try:
        for round_number in range(args.rounds):
            for name, command in tools(url, airspace, ytdlp).items():
                if args.only and name not in args.only.split(","):
                    continue
                with tempfile.TemporaryDirectory() as work:
                    busy_before, steal_before = machine_cpu_seconds()
                    begin = time.monotonic()
                    subprocess.run(command, cwd=work, check=True)
                    elapsed = time.monotonic() - begin
                    busy_after, steal_after = machine_cpu_seconds()
                    cpu.setdefault(name, []).append(busy_after - busy_before)
                    steal = steal_after - steal_before
                    output = next(p for p in Path(work).iterdir() if p.name.startswith("out."))
                    durations[name] = mutagen.File(output).info.length
                times.setdefault(name, []).append(elapsed)
                print(
                    f"round {round_number + 1}: {name:<24} {elapsed:7.2f} s"
                    f"  ({cpu[name][-1]:.1f} CPU-s busy, {steal:.1f} s stolen)",
                    flush=True,
                )
    finally:
        server.terminate()
        shutil.rmtree(work, ignore_errors=True)
    median = {name: statistics.median(values) for name, values in times.items()}
    print()
    print(f"| tool | median of {args.rounds} (s) | busy CPU, median (s) | output duration (s) |")
    print("|---|---:|---:|---:|")
    for name, value in median.items():
        cpu_median = statistics.median(cpu[name])
        print(f"| {name} | {value:.2f} | {cpu_median:.1f} | {durations[name]:.3f} |")
    print()
    # M4A: at a CDN's 20 ms per request the wait is what counts; on loopback with no
    # delay, start-up and per-segment overhead, which nobody waits for.
    m4a_target = 0.2 if args.latency_ms >= 20 else 1.5
    ratios = [
        ("airspace mp3 / yt-dlp mp3", "airspace mp3", "yt-dlp mp3", 0.3),
        ("airspace mp3 / ffmpeg mp3", "airspace mp3", "ffmpeg mp3", 0.6),
        ("airspace mp3 debian-lame / yt-dlp mp3", "airspace mp3 debian-lame", "yt-dlp mp3", 0.3),
        ("airspace mp3 debian-lame / ffmpeg mp3", "airspace mp3 debian-lame", "ffmpeg mp3", 0.6),
        ("airspace m4a / ffmpeg m4a copy", "airspace m4a", "ffmpeg m4a copy", m4a_target),
    ]
    print("| ratio | value | target |")
    print("|---|---:|---:|")
    for label, ours, theirs, target in ratios:
        if ours not in median or theirs not in median:
            continue
        value = median[ours] / median[theirs]
        print(f"| {label} | {value:.2f} | ≤ {target} {'✓' if value <= target else '✗'} |")


if __name__ == "__main__":
    main()
