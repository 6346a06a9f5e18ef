"""The HTTP client: with the SSRF guard a server never fetches internal addresses on a
user's behalf (nor follows a redirect to one); size caps, redirects and cut bodies."""

from __future__ import annotations

import asyncio

import pytest

from airspace.downloader.address_guard import AddressGuard
from airspace.downloader.errors import BlockedAddress, FetchError, TooLarge
from airspace.downloader.net import Fetched, Http, HttpOptions
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


class MisleadingGuard(AddressGuard):
    """A guard whose resolver lets a name through to loopback, as a resolver answering
    differently from one query to the next could."""

    async def resolve(self, host: str, port: int) -> str:
        return "127.0.0.1"


def test_no_request_goes_to_an_internal_address_the_resolver_let_through(
    server: FakeServer,
) -> None:
    port = server.url.rsplit(":", 1)[1]
    server.static("/ok", b"secret")
    with pytest.raises(BlockedAddress, match=r"reached at an internal address \(127.0.0.1\)"):
        fetch(f"http://public.example:{port}/ok", MisleadingGuard())
    assert server.hits["/ok"] == 0


def get(url: str, **options: object) -> Fetched:
    async def go() -> Fetched:
        async with Http(HttpOptions(retries=1, backoff_seconds=0.01)) as http:
            return await http.get(url, **options)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_a_body_over_the_cap_is_refused(server: FakeServer) -> None:
    server.static("/big", bytes(5000))
    assert len(get(f"{server.url}/big", max_bytes=5000).content) == 5000
    with pytest.raises(TooLarge):
        get(f"{server.url}/big", max_bytes=4999)


def test_a_body_over_the_cap_is_refused_without_a_content_length(server: FakeServer) -> None:
    # No Content-Length: libcurl cannot refuse up front, the cap is counted as bytes arrive.
    server.routes["/stream"] = lambda _r: Reply(200, bytes(range(256)) * 20, chunked=True)
    assert get(f"{server.url}/stream", max_bytes=5120).content == bytes(range(256)) * 20
    with pytest.raises(TooLarge):
        get(f"{server.url}/stream", max_bytes=5119)


def test_redirects_are_followed_and_headers_are_the_last_answers(server: FakeServer) -> None:
    server.json("/data", {"ok": True})
    server.routes["/jump"] = lambda _r: Reply(302, b"", headers={"Location": "/data"})
    response = get(f"{server.url}/jump")
    assert response.url == f"{server.url}/data"
    assert response.headers["Content-Type"] == "application/json"
    assert "location" not in response.headers
    assert response.json() == {"ok": True}


def test_a_body_cut_short_is_retried_then_reported(server: FakeServer) -> None:
    server.routes["/cut"] = lambda _r: Reply(200, bytes(4000), drop_after=1000)
    with pytest.raises(FetchError, match="after 2 attempts"):
        get(f"{server.url}/cut")
    assert server.hits["/cut"] == 2


def test_a_transfer_below_the_speed_floor_is_cut_off(server: FakeServer) -> None:
    """A crawling transfer (a slow-loris origin) is ended once its average speed over
    the window falls below the floor, instead of holding a worker for as long as it
    keeps a byte a second coming."""
    server.routes["/crawl"] = lambda _r: Reply(200, b"x" * 20_000, bytes_per_second=400)
    options = HttpOptions(retries=0, timeout_seconds=2, min_bytes_per_second=2_000)

    async def go() -> bytes:
        async with Http(options, AddressGuard(frozenset({"127.0.0.1"}))) as http:
            return (await http.get(f"{server.url}/crawl")).content

    with pytest.raises(FetchError):
        asyncio.run(go())
