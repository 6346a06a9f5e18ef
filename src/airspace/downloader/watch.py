"""``airspace watch``: follow hosts and record every Space they start, from the moment it
is seen live to its end (the earlier part joined from the replay), one after another.
Hosts are Airspace profiles (asked through the instance's API) and X accounts (asked
through X's endpoints, which tell logged-in accounts only: ``--cookies``).

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

from airspace.downloader.errors import DownloadError, SpacePrivate, UnsupportedURL
from airspace.downloader.net import Http, read_netscape_cookies
from airspace.downloader.pipeline import DownloadOptions, DownloadResult, download_async
from airspace.downloader.sources import X_HOSTS
from airspace.downloader.x import live_space_of, x_account_id

PROFILE_PATH = re.compile(r"^/@([A-Za-z0-9_]{3,30})/?$")
X_PROFILE_PATH = re.compile(r"^/@?([A-Za-z0-9_]{1,15})/?$")
X_RESERVED = {"i", "home", "explore", "search", "settings", "messages", "notifications"}
"""First path parts of x.com that are pages, not accounts."""
STATE_FILE = ".airspace-watch.json"
Log = Callable[[str], None]


@dataclass(frozen=True)
class WatchedHost:
    origin: str
    username: str

    @property
    def label(self) -> str:
        return f"@{self.username} on {urlsplit(self.origin).netloc}"


@dataclass(frozen=True)
class WatchedXAccount:
    handle: str

    @property
    def label(self) -> str:
        return f"@{self.handle} on X"


def watched_host(url: str) -> WatchedHost | WatchedXAccount:
    """An Airspace profile link (``https://instance/@username``) or an X account's
    (``https://x.com/handle``, twitter.com and mobile forms too)."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    if host in X_HOSTS:
        account = X_PROFILE_PATH.match(parts.path)
        if account is None or account.group(1).lower() in X_RESERVED:
            raise UnsupportedURL(f"not an X account to watch: {url!r}; give https://x.com/handle")
        return WatchedXAccount(account.group(1))
    found = PROFILE_PATH.match(parts.path)
    if parts.scheme not in ("http", "https") or not parts.netloc or found is None:
        raise UnsupportedURL(
            f"not a host to watch: {url!r}; give an Airspace profile link "
            "(https://instance/@username) or an X account's (https://x.com/handle)"
        )
    return WatchedHost(f"{parts.scheme}://{parts.netloc}", found.group(1))


class Watcher:
    """Records each Space the hosts start; ``run`` returns when ``stop`` is set."""

    def __init__(
        self,
        hosts: Sequence[WatchedHost | WatchedXAccount],
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
        self.cookies: dict[str, str] = {}
        if any(isinstance(host, WatchedXAccount) for host in self.hosts):
            if not options.cookies_file:
                raise SpacePrivate(
                    "X tells only logged-in accounts who is live: watching an X account "
                    "needs --cookies (a cookies.txt from a browser logged in to X)"
                )
            self.cookies = read_netscape_cookies(options.cookies_file)
        self.x_accounts: dict[str, str] = {}
        """X handles and their account ids, looked up once."""

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

    async def _look(self, http: Http, host: WatchedHost | WatchedXAccount) -> None:
        if isinstance(host, WatchedXAccount):
            await self._look_on_x(http, host)
            return
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

    async def _look_on_x(self, http: Http, account: WatchedXAccount) -> None:
        config = self.options.x
        try:
            if account.handle not in self.x_accounts:
                found = await x_account_id(http, config, self.cookies, account.handle)
                self.x_accounts[account.handle] = found
            space_id = await live_space_of(
                http, config, self.cookies, self.x_accounts[account.handle]
            )
        except DownloadError as error:
            self.log(f"could not ask X whether {account.label} is live ({error.message})")
            return
        if space_id is None or space_id in self.recorded:
            return
        if space_id in self.recording and not self.recording[space_id].done():
            return
        link = f"https://x.com/i/spaces/{space_id}"
        self.log(f"{account.label} is live ({link}); recording")
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
