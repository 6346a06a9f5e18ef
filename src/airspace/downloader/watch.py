"""``airspace watch``: follow hosts and record every Space they start, from the moment it
is seen live to its end (the earlier part joined from the replay), one after another.

A state file beside the recordings remembers which Spaces are done, so a watcher that
was stopped (Ctrl-C, SIGTERM) and started again records nothing twice; a recording cut
by the stop resumes from the parts it kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from airspace.downloader.errors import DownloadError, UnsupportedURL
from airspace.downloader.net import Http
from airspace.downloader.pipeline import DownloadOptions, DownloadResult, download_async

PROFILE_PATH = re.compile(r"^/@([A-Za-z0-9_]{3,30})/?$")
STATE_FILE = ".airspace-watch.json"
Log = Callable[[str], None]


@dataclass(frozen=True)
class WatchedHost:
    origin: str
    username: str

    @property
    def label(self) -> str:
        return f"@{self.username} on {urlsplit(self.origin).netloc}"


def watched_host(url: str) -> WatchedHost:
    """An Airspace profile link (``https://instance/@username``)."""
    parts = urlsplit(url.strip())
    found = PROFILE_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or found is None:
        raise UnsupportedURL(
            f"not a host to watch: {url!r}; give an Airspace profile link "
            "(https://instance/@username)"
        )
    return WatchedHost(f"{parts.scheme}://{parts.netloc}", found.group(1))


class Watcher:
    """Records each Space the hosts start; ``run`` returns when ``stop`` is set."""

    def __init__(
        self,
        hosts: Sequence[WatchedHost],
        options: DownloadOptions,
        folder: Path,
        log: Log,
        *,
        poll_seconds: float = 15.0,
        on_saved: Sequence[str] = (),
    ) -> None:
        self.hosts = list(hosts)
        self.options = replace(options, live=True)
        self.folder = folder
        self.log = log
        self.poll_seconds = poll_seconds
        self.on_saved = list(on_saved)
        """A command run on each finished file; ``{}`` in it is the file's path."""
        self.state_path = folder / STATE_FILE
        self.recorded: set[str] = self._load()
        self.recording: dict[str, asyncio.Task[None]] = {}

    def _load(self) -> set[str]:
        try:
            return set(json.loads(self.state_path.read_text()).get("recorded", []))
        except (OSError, ValueError, AttributeError):
            return set()

    def _save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.state_path.write_text(json.dumps({"recorded": sorted(self.recorded)}) + "\n")

    async def run(self, stop: asyncio.Event) -> None:
        names = ", ".join(host.label for host in self.hosts)
        self.log(f"watching {names}; a Space they start is recorded to {self.folder}")
        async with Http() as http:
            while not stop.is_set():
                for host in self.hosts:
                    await self._look(http, host)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_seconds)
        running = [task for task in self.recording.values() if not task.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
            self.log(f"stopped; {len(running)} recording(s) cut short: watch again to resume")
        else:
            self.log("stopped")

    async def _look(self, http: Http, host: WatchedHost) -> None:
        url = f"{host.origin}/api/v1/spaces?state=live&host={host.username}"
        try:
            answer = await http.request("GET", url, max_bytes=1 << 20, retries=1)
            live = answer.json().get("items", []) if answer.status_code == 200 else []
        except (DownloadError, ValueError, AttributeError):
            self.log(f"could not ask {host.label} for live Spaces; trying again")
            return
        for space in live:
            space_id = str(space.get("id", ""))
            if not space.get("record") or space_id in self.recorded:
                continue
            if space_id in self.recording and not self.recording[space_id].done():
                continue
            link = f"{host.origin}/i/spaces/{space_id}"
            self.log(f"{host.label} is live: {space.get('title')!r} ({link}); recording")
            self.recording[space_id] = asyncio.create_task(self._record(space_id, link))

    async def _record(self, space_id: str, link: str) -> None:
        template = str(self.folder / self.options.output_template)
        options = replace(self.options, output_template=template)
        try:
            result = await download_async(link, options)
        except DownloadError as error:
            self.log(f"{link}: not recorded: {error.message}")
            return
        except (OSError, ValueError) as error:  # a full disk, a bad template: say so, go on
            self.log(f"{link}: not recorded: {error}")
            return
        self.recorded.add(space_id)
        self._save()
        minutes, seconds = divmod(int(result.duration), 60)
        self.log(f"saved {result.path} ({minutes}:{seconds:02d})")
        if self.on_saved:
            await self._run_command(result)

    async def _run_command(self, result: DownloadResult) -> None:
        command = [str(result.path) if part == "{}" else part for part in self.on_saved]
        if "{}" not in self.on_saved:
            command.append(str(result.path))
        finished = await asyncio.to_thread(
            subprocess.run, command, check=False, capture_output=True, text=True
        )
        self.log(f"ran {command[0]} on {result.path.name}: exit {finished.returncode}")
