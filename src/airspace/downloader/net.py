"""HTTP for the downloader: retries with backoff, size caps, and an SSRF guard.

With a guard (the web page's downloads), every connection goes to an address that was
resolved and checked first (the resolver aiohttp connects with refuses internal
addresses; the host name stays in the Host header and TLS), and redirects are followed
by hand, each hop checked again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from airspace import __version__
from airspace.downloader.errors import BlockedAddress, FetchError, TooLarge

USER_AGENT = f"airspace-downloader/{__version__}"
MAX_REDIRECTS = 5
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public_address(address: IPAddress) -> bool:
    """False for loopback, private, link-local, multicast, reserved and unspecified addresses."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_loopback
    )


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class AddressGuard:
    """Which hosts a server may fetch from on a user's behalf."""

    allow_hosts: frozenset[str] = frozenset()
    """Hosts exempt from the check (``AIRSPACE_DOWNLOAD_ALLOW_HOSTS``)."""

    async def resolve(self, host: str, port: int) -> str:
        """The checked address to connect to; raises BlockedAddress."""
        host = host.strip("[]").lower()
        allowed = host in self.allow_hosts
        try:
            candidates: list[IPAddress] = [ipaddress.ip_address(host)]
        except ValueError:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise FetchError(f"cannot resolve {host}: {exc.strerror}") from None
            candidates = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        blocked = [a for a in candidates if not is_public_address(a)]
        if not candidates or (blocked and not allowed):
            raise BlockedAddress(
                f"{host} resolves to an internal address ({blocked[0] if blocked else 'none'}); "
                "it will not be fetched"
            )
        return str(candidates[0])


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
    headers: Mapping[str, str] | None = None


class GuardedResolver(AbstractResolver):
    """Resolves names for aiohttp, refusing any that lead to an internal address: the
    connection then goes to exactly the addresses that were checked."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = await self.guard.resolve(host, port)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": family,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


class Http:
    """An HTTP client (aiohttp) that retries what is worth retrying."""

    def __init__(self, options: HttpOptions | None = None, guard: AddressGuard | None = None):
        self.options = options or HttpOptions()
        self.guard = guard
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self.options.concurrency + 2,
                resolver=GuardedResolver(self.guard) if self.guard else None,
                ttl_dns_cache=60,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    sock_connect=self.options.timeout_seconds,
                    sock_read=self.options.timeout_seconds,
                ),
                headers={"User-Agent": USER_AGENT, **(self.options.headers or {})},
                trust_env=False,
            )
        return self._session

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def _check(self, url: str) -> None:
        """Refuse internal addresses written into the URL; names are checked by the
        resolver, whose answer is the address aiohttp connects to."""
        if self.guard is None:
            return
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BlockedAddress(f"only http and https URLs are fetched: {url}")
        if is_ip_literal(parts.hostname):
            await self.guard.resolve(parts.hostname, parts.port or 80)

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
            await self._check(url)
            async with self.session.request(
                method,
                url,
                headers=dict(headers or {}),
                data=content,
                allow_redirects=self.guard is None,
            ) as response:
                if self.guard is not None and response.status in (301, 302, 303, 307, 308):
                    hops += 1
                    if hops > MAX_REDIRECTS:
                        raise FetchError(f"too many redirects from {url}")
                    url = urljoin(url, response.headers.get("location", ""))
                    continue
                body = bytearray()
                async for chunk in response.content.iter_chunked(1 << 16):
                    body.extend(chunk)
                    if max_bytes is not None and len(body) > max_bytes:
                        raise TooLarge(f"{url} is larger than {max_bytes} bytes")
                declared = response.headers.get("content-length")
                if (
                    declared is not None
                    and declared.isdigit()
                    and "content-encoding" not in response.headers
                    and int(declared) != len(body)
                ):
                    raise aiohttp.ClientPayloadError(
                        f"truncated body: {len(body)} of {declared} bytes"
                    )
                return Fetched(str(response.url), response.status, response.headers, bytes(body))

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
            except (aiohttp.ClientError, TimeoutError) as exc:
                last_error = f"{type(exc).__name__}: {exc}".rstrip(": ")
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
