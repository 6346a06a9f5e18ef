"""HTTP for the downloader: retries with backoff, size caps, and an SSRF guard.

With a guard (the web page's downloads), every connection goes to an address that was
resolved and checked first: the request is sent to that IP with the original Host
header and TLS server name, and redirects are followed by hand, each hop checked again.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import random
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

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


@dataclass(frozen=True)
class AddressGuard:
    """Which hosts a server may fetch from on a user's behalf."""

    allow_hosts: frozenset[str] = frozenset()
    """Hosts exempt from the check (``AIRSPACE_DOWNLOAD_ALLOW_HOSTS``)."""

    async def resolve(self, host: str, port: int) -> str:
        """The checked address to connect to; raises BlockedAddress."""
        host = host.strip("[]").lower()
        try:
            literal: IPAddress | None = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if host in self.allow_hosts:
            return host
        if literal is not None:
            candidates = [literal]
        else:
            loop = asyncio.get_running_loop()
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise FetchError(f"cannot resolve {host}: {exc.strerror}") from None
            candidates = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
        blocked = [a for a in candidates if not is_public_address(a)]
        if blocked or not candidates:
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
    headers: httpx.Headers
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
    cookies: Mapping[str, str] | None = None
    headers: Mapping[str, str] | None = None


class Http:
    """An HTTP client that retries what is worth retrying."""

    def __init__(self, options: HttpOptions | None = None, guard: AddressGuard | None = None):
        self.options = options or HttpOptions()
        self.guard = guard
        limits = httpx.Limits(
            max_connections=self.options.concurrency + 2,
            max_keepalive_connections=self.options.concurrency + 2,
        )
        self.client = httpx.AsyncClient(
            limits=limits,
            timeout=httpx.Timeout(self.options.timeout_seconds),
            headers={"User-Agent": USER_AGENT, **(self.options.headers or {})},
            cookies=dict(self.options.cookies or {}),
            follow_redirects=guard is None,
            trust_env=guard is None,
        )

    async def __aenter__(self) -> Http:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.client.aclose()

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
            request_url, extensions, extra = url, {}, {}
            if self.guard is not None:
                parts = urlsplit(url)
                if parts.scheme not in ("http", "https") or not parts.hostname:
                    raise BlockedAddress(f"only http and https URLs are fetched: {url}")
                port = parts.port or (443 if parts.scheme == "https" else 80)
                address = await self.guard.resolve(parts.hostname, port)
                literal = f"[{address}]" if ":" in address else address
                request_url = parts._replace(netloc=f"{literal}:{port}").geturl()
                extra = {"Host": parts.netloc.rpartition("@")[2]}
                extensions = {"sni_hostname": parts.hostname}
            request = self.client.build_request(
                method,
                request_url,
                headers={**(headers or {}), **extra},
                content=content,
                extensions=extensions,
            )
            response = await self.client.send(request, stream=True)
            try:
                if self.guard is not None and response.is_redirect:
                    hops += 1
                    if hops > MAX_REDIRECTS:
                        raise FetchError(f"too many redirects from {url}")
                    url = urljoin(url, response.headers["location"])
                    continue
                body = bytearray()
                async for chunk in response.aiter_bytes():
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
                    raise httpx.ReadError(f"truncated body: {len(body)} of {declared} bytes")
                return Fetched(url, response.status_code, response.headers, bytes(body))
            finally:
                await response.aclose()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        max_bytes: int | None = None,
        ok_statuses: Iterable[int] = (),
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
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                last_error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            else:
                if response.status_code not in RETRY_STATUSES or response.status_code in set(
                    ok_statuses
                ):
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
