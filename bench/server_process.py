"""A real Airspace server for benchmarks: its own process on a fresh data directory, an
account to drive it with, and the CPU it and its children spend (from /proc)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PASSWORD = "bench-" + "password"


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def pin(pid: int, cpus: set[int]) -> None:
    """Keep every thread of ``pid`` (and whatever it starts later) on ``cpus``."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), cpus)


def cpu_list(text: str) -> set[int]:
    """``0`` or ``0,1`` as a set of CPU numbers."""
    return {int(part) for part in text.split(",")}


def cpu_seconds(pid: int) -> tuple[float, float]:
    """utime + stime of a process (all threads) and of every process under it (the
    server's media workers), from /proc/<pid>/stat: (the process, those under it)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat(int(entry.name))[1])
            except (OSError, IndexError, ValueError):
                continue
    family, grew = {pid}, True
    while grew:
        grown = family | {child for child, parent in parents.items() if parent in family}
        grew, family = grown != family, grown
    own = under = 0
    for member in family:
        try:
            fields = _stat(member)
        except OSError:
            continue
        ticks = int(fields[11]) + int(fields[12])
        if member == pid:
            own = ticks
        else:
            under += ticks
    return own / os.sysconf("SC_CLK_TCK"), under / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    data: Path, port: int, settings: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`airspace db upgrade`, then `airspace serve` on ``port`` with ``data`` as its data
    directory (and any other ``AIRSPACE_*`` settings); returns once it answers."""
    env = {**os.environ, "AIRSPACE_DATA_DIR": str(data), **(settings or {})}
    subprocess.run(
        [PYTHON, "-m", "airspace", "db", "upgrade"], env=env, check=True, capture_output=True
    )
    log = (data / "server.log").open("wb")
    server = subprocess.Popen(
        [PYTHON, "-m", "airspace", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit(f"server did not come up; see {data / 'server.log'}")


async def tokens_by_command(data: Path, names: list[str], at_once: int = 4) -> list[str]:
    """API tokens of new accounts ``names``, made with ``airspace user create`` on the
    server's data directory: an instance takes only so many sign-ups from one address
    an hour, and a bench needs more accounts than that."""
    env = {**os.environ, "AIRSPACE_DATA_DIR": str(data)}
    gate = asyncio.Semaphore(at_once)

    async def one(name: str) -> str:
        async with gate:
            made = await asyncio.create_subprocess_exec(
                PYTHON,
                "-m",
                "airspace",
                "user",
                "create",
                name,
                "--password",
                PASSWORD,
                "--token",
                "bench",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await made.communicate()
        if made.returncode != 0:
            raise SystemExit(f"could not create {name}: {err.decode().strip()}")
        return out.decode().split("API token: ")[1].strip()

    return list(await asyncio.gather(*(one(name) for name in names)))


async def token_for(base: str, username: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        reply = await http.post(
            "/api/v1/auth/register", json={"username": username, "password": PASSWORD}
        )
        reply.raise_for_status()
        csrf = {"X-CSRF-Token": reply.json()["csrf_token"]}
        reply = await http.post("/api/v1/me/tokens", json={"name": "bench"}, headers=csrf)
        reply.raise_for_status()
        return str(reply.json()["token"])
