"""The address check behind the SSRF guard: which addresses are public, and what a name
resolves to."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from airspace.downloader.address_guard import AddressGuard, is_ip_literal, is_public_address
from airspace.downloader.errors import BlockedAddress, FetchError


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2606:4700:4700::1111", True),
        ("192.168.1.1", False),
        ("10.0.0.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - the unspecified address, checked not bound
        ("240.0.0.1", False),
        ("::1", False),
        ("fd00::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:93.184.216.34", True),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert is_public_address(ipaddress.ip_address(address)) is public


def test_ip_literals() -> None:
    assert is_ip_literal("127.0.0.1")
    assert is_ip_literal("[::1]")
    assert not is_ip_literal("localhost")
    assert not is_ip_literal("example.com")


def resolve(guard: AddressGuard, host: str) -> str:
    return asyncio.run(guard.resolve(host, 80))


def test_a_name_is_checked_by_every_address_it_resolves_to() -> None:
    with pytest.raises(BlockedAddress, match="localhost resolves to an internal address"):
        resolve(AddressGuard(), "localhost")
    with pytest.raises(BlockedAddress):
        resolve(AddressGuard(), "[::1]")


def test_allowed_hosts_resolve_to_the_address_to_connect_to() -> None:
    assert resolve(AddressGuard(frozenset({"127.0.0.1"})), "127.0.0.1") == "127.0.0.1"
    assert resolve(AddressGuard(frozenset({"localhost"})), "LOCALHOST") in ("127.0.0.1", "::1")


def test_a_name_that_does_not_resolve_is_a_fetch_error() -> None:
    with pytest.raises(FetchError, match="cannot resolve"):
        resolve(AddressGuard(), "no-such-host.invalid")


def test_a_connection_may_carry_a_request_only_to_a_public_or_allowed_address() -> None:
    guard = AddressGuard(frozenset({"localhost"}))
    assert guard.permits("example.com", "93.184.215.14")
    assert guard.permits("example.com", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")
    assert not guard.permits("example.com", "127.0.0.1")
    assert not guard.permits("example.com", "::ffff:10.0.0.1")
    assert not guard.permits("example.com", "fe80::1%eth0")
    assert not guard.permits("example.com", "not an address")
    assert guard.permits("LOCALHOST", "127.0.0.1")
