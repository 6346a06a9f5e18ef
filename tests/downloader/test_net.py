"""The SSRF guard: a server never fetches internal addresses on a user's behalf."""

from __future__ import annotations

import asyncio

import pytest

from airspace.downloader.errors import BlockedAddress
from airspace.downloader.net import AddressGuard, Http, HttpOptions, is_public_address
from tests.downloader.hls_server import FakeServer, Reply


def fetch(url: str, guard: AddressGuard) -> bytes:
    async def go() -> bytes:
        async with Http(HttpOptions(retries=0), guard) as http:
            return (await http.get(url)).content

    return asyncio.run(go())


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.m3u8",
        "http://10.0.0.1/x.m3u8",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:9/x.m3u8",
        "http://localhost:9/x.m3u8",
        "http://224.0.0.1/x.m3u8",
        "http://0.0.0.0/x.m3u8",
        "http://[::ffff:127.0.0.1]/x.m3u8",
        "file:///etc/passwd",
    ],
)
def test_internal_addresses_are_refused(url: str) -> None:
    with pytest.raises(BlockedAddress):
        fetch(url, AddressGuard())


def test_allowed_hosts_are_fetched(server: FakeServer) -> None:
    server.static("/ok", b"fine")
    assert fetch(f"{server.url}/ok", AddressGuard(frozenset({"127.0.0.1"}))) == b"fine"


@pytest.mark.parametrize("target", ["http://localhost:{port}/ok", "http://10.0.0.1/ok"])
def test_redirects_to_internal_addresses_are_refused(server: FakeServer, target: str) -> None:
    port = server.url.rsplit(":", 1)[1]
    server.static("/ok", b"secret")
    server.routes["/jump"] = lambda _r: Reply(
        302, b"", headers={"Location": target.format(port=port)}
    )
    with pytest.raises(BlockedAddress):
        fetch(f"{server.url}/jump", AddressGuard(frozenset({"127.0.0.1"})))
    assert server.hits["/ok"] == 0


def test_public_addresses() -> None:
    import ipaddress

    assert is_public_address(ipaddress.ip_address("93.184.216.34"))
    assert not is_public_address(ipaddress.ip_address("192.168.1.1"))
    assert not is_public_address(ipaddress.ip_address("fd00::1"))
