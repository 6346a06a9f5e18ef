"""HTTP for the downloader (libcurl through pycurl): retries with backoff, size caps, and
an SSRF guard.

libcurl moves the bytes (its multi interface, driven by the asyncio loop), so a
segment costs Python a handful of calls rather than a parser's worth: that is what
lets 2,700 segments of a 90-minute Space arrive in a fraction of a second on loopback.

With a guard (the web page's downloads), every connection goes to an address that was
resolved and checked first (libcurl is handed that address for the host, so it never
resolves the name itself; the name stays in the Host header and TLS), proxies from the
environment are ignored, and redirects are followed by hand, each hop checked again.
Before a request goes out on a connection, the address it is connected to is checked
once more (libcurl's pre-request callback), so no request is sent to an internal
address even if an answer got past the resolver's check.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import pycurl

from airspace import __version__
from airspace.downloader.address_guard import AddressGuard, is_ip_literal
from airspace.downloader.errors import BlockedAddress, DownloadError, FetchError, TooLarge

USER_AGENT = f"airspace-downloader/{__version__}"
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Fetched:
    """A response whose body has been read whole."""

    url: str
    status_code: int
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class HttpOptions:
    concurrency: int = 8
    retries: int = 4
    backoff_seconds: float = 0.25
    max_backoff_seconds: float = 8.0
    timeout_seconds: float = 20.0
    """Connecting, and the window over which the transfer speed is judged."""
    min_bytes_per_second: int = 1
    """A transfer slower than this on average over ``timeout_seconds`` is cut off."""
    headers: Mapping[str, str] | None = None


HTTP_ONLY = pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS
BUFFER_BYTES = 256 * 1024
GUARD_CACHE_SECONDS = 60.0


@cache
def _ca_file() -> str | None:
    """The system's CA bundle (as Python's ssl module finds it), else certifi's."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and os.path.exists(candidate):
            return candidate
    try:
        import certifi
    except ImportError:
        return None
    return str(certifi.where())


class _Transfer:
    """One request's body and header lines as libcurl hands them over."""

    def __init__(self, max_bytes: int | None) -> None:
        self.max_bytes = max_bytes
        self.chunks: list[bytes] = []
        self.size = 0
        self.too_large = False
        self.header_lines: list[bytes] = []
        self.refused_address = ""
        """The connected address the guard refused before the request was sent."""

    def write(self, data: bytes) -> int | None:
        self.size += len(data)
        if self.max_bytes is not None and self.size > self.max_bytes:
            self.too_large = True
            return 0  # anything but len(data) makes libcurl stop the transfer
        self.chunks.append(data)
        return None


class _Headers(Mapping[str, str]):
    """The last response's headers (after redirects or a 100 Continue), names in lower
    case; parsed from libcurl's header lines when first read."""

    def __init__(self, lines: list[bytes]) -> None:
        self._lines = lines
        self._parsed: dict[str, str] | None = None

    def _headers(self) -> dict[str, str]:
        if self._parsed is None:
            headers: dict[str, str] = {}
            for line in self._lines:
                if line.startswith(b"HTTP/"):
                    headers = {}
                    continue
                name, colon, value = line.decode("latin-1").partition(":")
                if colon:
                    headers[name.strip().lower()] = value.strip()
            self._parsed = headers
        return self._parsed

    def __getitem__(self, name: str) -> str:
        return self._headers()[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers())

    def __len__(self) -> int:
        return len(self._headers())


class Http:
    """An HTTP client (libcurl) that retries what is worth retrying."""

    def __init__(self, options: HttpOptions | None = None, guard: AddressGuard | None = None):
        self.options = options or HttpOptions()
        self.guard = guard
        self._multi: pycurl.AsyncCurlMulti | None = None
        self._idle: list[pycurl.Curl] = []
        self._pinned: dict[tuple[str, int], tuple[str, float]] = {}
        base = {"User-Agent": USER_AGENT, **(self.options.headers or {})}
        self._base_headers = {k.lower(): f"{k}: {v}" for k, v in base.items()}
        self._default_headers = list(self._base_headers.values())

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._multi is not None:
            await self._multi.aclose()
            self._multi = None
        for curl in self._idle:
            curl.close()
        self._idle.clear()

    @property
    def multi(self) -> pycurl.AsyncCurlMulti:
        if self._multi is None:
            self._multi = pycurl.AsyncCurlMulti()
            self._multi.setopt(pycurl.M_MAX_TOTAL_CONNECTIONS, self.options.concurrency + 2)
        return self._multi

    async def _pin(self, url: str) -> str | None:
        """With a guard: the ``host:port:address`` libcurl must connect to for ``url``,
        after checking the address; raises BlockedAddress."""
        if self.guard is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BlockedAddress(f"only http and https URLs are fetched: {url}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if is_ip_literal(parts.hostname):
            await self.guard.resolve(parts.hostname, port)  # raises BlockedAddress
            return None  # libcurl connects to exactly this address
        key = (parts.hostname, port)
        known = self._pinned.get(key)
        if known is None or known[1] < time.monotonic():
            address = await self.guard.resolve(parts.hostname, port)
            known = self._pinned[key] = (address, time.monotonic() + GUARD_CACHE_SECONDS)
        address = f"[{known[0]}]" if ":" in known[0] else known[0]
        return f"{parts.hostname}:{port}:{address}"

    def _configure(self, curl: pycurl.Curl) -> None:
        """The options every request shares."""
        timeout = self.options.timeout_seconds
        curl.setopt(pycurl.NOSIGNAL, 1)
        curl.setopt(pycurl.PROXY, "")  # never a proxy from the environment
        curl.setopt(pycurl.PROTOCOLS, HTTP_ONLY)
        curl.setopt(pycurl.REDIR_PROTOCOLS, HTTP_ONLY)
        curl.setopt(pycurl.FOLLOWLOCATION, self.guard is None)
        curl.setopt(pycurl.MAXREDIRS, MAX_REDIRECTS)
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(timeout * 1000)))
        # A transfer slower than the floor over the timeout ends (at the default of 1 B/s:
        # one that stalls, as a socket timeout would).
        curl.setopt(pycurl.LOW_SPEED_LIMIT, max(1, self.options.min_bytes_per_second))
        curl.setopt(pycurl.LOW_SPEED_TIME, max(1, math.ceil(timeout)))
        curl.setopt(pycurl.ACCEPT_ENCODING, "")
        curl.setopt(pycurl.BUFFERSIZE, BUFFER_BYTES)
        if ca_file := _ca_file():
            curl.setopt(pycurl.CAINFO, ca_file)

    def _handle(self) -> pycurl.Curl:
        if self._idle:
            return self._idle.pop()
        curl = pycurl.Curl()
        self._configure(curl)
        return curl

    def _prepare(
        self,
        curl: pycurl.Curl,
        transfer: _Transfer,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        content: bytes | None,
        pinned: str | None,
    ) -> bool:
        """Set the request's own options; False when the handle needs a reset after."""
        if headers:
            lines = dict(self._base_headers)
            for name, value in headers.items():
                lines[name.lower()] = f"{name}: {value}"
            curl.setopt(pycurl.HTTPHEADER, list(lines.values()))
        else:
            curl.setopt(pycurl.HTTPHEADER, self._default_headers)
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.WRITEFUNCTION, transfer.write)
        curl.setopt(pycurl.HEADERFUNCTION, transfer.header_lines.append)
        curl.setopt(pycurl.MAXFILESIZE_LARGE, transfer.max_bytes or 0)  # 0: no limit
        plain = True
        if pinned is not None:
            curl.setopt(pycurl.RESOLVE, [pinned])
            plain = False
        if self.guard is not None:
            curl.setopt(pycurl.PREREQFUNCTION, self._peer_check(url, transfer))
            plain = False
        if content is not None:
            curl.setopt(pycurl.POSTFIELDS, content)
            curl.setopt(pycurl.POSTFIELDSIZE_LARGE, len(content))
            plain = False
        if method == "HEAD":
            curl.setopt(pycurl.NOBODY, 1)
            plain = False
        elif method != ("POST" if content is not None else "GET"):
            curl.setopt(pycurl.CUSTOMREQUEST, method)
            plain = False
        return plain

    def _peer_check(self, url: str, transfer: _Transfer) -> Callable[[str, str, int, int], int]:
        """libcurl's pre-request callback: lets the request out only over a connection to
        an address the guard permits for ``url``'s host."""
        assert self.guard is not None
        guard, host = self.guard, urlsplit(url).hostname or ""

        def check(peer: str, _local: str, _peer_port: int, _local_port: int) -> int:
            if guard.permits(host, peer):
                return int(pycurl.PREREQFUNC_OK)
            transfer.refused_address = peer
            return int(pycurl.PREREQFUNC_ABORT)

        return check

    async def _transfer(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        max_bytes: int | None,
        content: bytes | None,
    ) -> Fetched:
        pinned = await self._pin(url)
        curl = self._handle()
        transfer = _Transfer(max_bytes)
        plain = False
        try:
            plain = self._prepare(curl, transfer, method, url, headers, content, pinned)
            try:
                await self.multi.perform(curl)
            except pycurl.error as exc:
                code = exc.args[0] if exc.args else 0
                if transfer.refused_address:
                    raise BlockedAddress(
                        f"{urlsplit(url).hostname} was reached at an internal address "
                        f"({transfer.refused_address}); it will not be fetched"
                    ) from None
                if transfer.too_large or code == pycurl.E_FILESIZE_EXCEEDED:
                    raise TooLarge(f"{url} is larger than {max_bytes} bytes") from None
                raise
            status = int(curl.getinfo(pycurl.RESPONSE_CODE))
            final_url = str(curl.getinfo(pycurl.EFFECTIVE_URL))
        except (pycurl.error, DownloadError):
            self._release(curl, plain)
            raise
        # Anything else (a cancelled transfer) leaves the handle to the multi's clean-up.
        self._release(curl, plain)
        body = b"".join(transfer.chunks)
        transfer.chunks.clear()  # the idle handle still holds the transfer's callbacks
        return Fetched(final_url, status, _Headers(transfer.header_lines), body)

    def _release(self, curl: pycurl.Curl, plain: bool) -> None:
        if not plain:  # a request with options of its own: start the handle afresh
            curl.reset()
            self._configure(curl)
        self._idle.append(curl)

    async def _send_once(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        max_bytes: int | None,
        content: bytes | None = None,
    ) -> Fetched:
        hops = 0
        while True:
            response = await self._transfer(method, url, headers, max_bytes, content)
            if self.guard is not None and response.status_code in (301, 302, 303, 307, 308):
                hops += 1
                if hops > MAX_REDIRECTS:
                    raise FetchError(f"too many redirects from {url}")
                url = urljoin(url, response.headers.get("location", ""))
                continue
            return response

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int | None = None,
        retries: int | None = None,
    ) -> Fetched:
        """Send with retries; returns a response whose body is read.

        Timeouts, dropped connections, truncated bodies and 408/425/429/5xx are retried
        with exponential backoff; other 4xx answers are returned to the caller as they are.
        """
        options = self.options
        retries = options.retries if retries is None else retries
        last_error = ""
        for attempt in range(retries + 1):
            try:
                response = await self._send_once(method, url, headers, max_bytes, content)
            except pycurl.error as exc:
                last_error = describe(exc)
            else:
                if response.status_code not in RETRY_STATUSES:
                    return response
                last_error = f"HTTP {response.status_code}"
            if attempt < retries:
                delay = min(options.max_backoff_seconds, options.backoff_seconds * 2**attempt)
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
        raise FetchError(f"{last_error} (after {retries + 1} attempts)")

    async def get(
        self, url: str, *, headers: Mapping[str, str] | None = None, max_bytes: int | None = None
    ) -> Fetched:
        return await self.request("GET", url, headers=headers, max_bytes=max_bytes)


def describe(error: pycurl.error) -> str:
    """One line for a libcurl failure: what happened, without the error number."""
    if len(error.args) >= 2 and error.args[1]:
        return str(error.args[1])
    return f"transfer failed (libcurl error {error.args[0] if error.args else '?'})"


def read_netscape_cookies(path: str) -> dict[str, str]:
    """Cookies from a Netscape ``cookies.txt`` (as browser extensions export them)."""
    cookies: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("#HttpOnly_"):
                line = line[len("#HttpOnly_") :]
            if not line or line.startswith("#"):
                continue
            fields = line.split("\t")
            if len(fields) >= 7:
                cookies[fields[5]] = fields[6]
    return cookies
