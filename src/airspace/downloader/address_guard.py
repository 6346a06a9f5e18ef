"""Which addresses a server may fetch from on a user's behalf (the SSRF guard).

A name is resolved and every address it resolves to is checked; the HTTP client then
connects to the checked address itself (``airspace.downloader.net``), so a second
resolution cannot point it elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

from airspace.downloader.errors import BlockedAddress, FetchError

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

    def permits(self, host: str, address: str) -> bool:
        """Whether a connection to ``address`` may carry a request for ``host``."""
        if host.strip("[]").lower() in self.allow_hosts:
            return True
        try:
            return is_public_address(ipaddress.ip_address(address.split("%")[0]))
        except ValueError:
            return False

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
