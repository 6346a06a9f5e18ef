"""The address a node's media is reached at, added to the ICE candidates it answers with.

A node behind a one-to-one NAT (a cloud VM with a public address, a container with
published ports) gathers only its private addresses; ``AIRSPACE_MEDIA_ADDRESS`` names
the address speakers' browsers reach it at, and every host candidate of an answer gets a
twin on that address and the same port (as Janus's ``nat_1_1_mapping`` does).
"""

from __future__ import annotations

import ipaddress

from airspace.errors import ConfigError

_TWIN_FOUNDATION = "ma"
"""Foundation prefix of the added candidates (a foundation groups candidates alike)."""


def check_media_address(value: str) -> str:
    """``value`` if it is an IP address; raises ConfigError naming the setting."""
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ConfigError(f"AIRSPACE_MEDIA_ADDRESS: {value!r} is not an IP address") from None


def advertise(sdp: str, address: str | None) -> str:
    """``sdp`` with a candidate on ``address`` beside each host candidate (same port,
    transport and component), unless it already has that one."""
    if address is None:
        return sdp
    lines = sdp.split("\r\n")
    found = [_fields(line) for line in lines]
    named = {(f[1], f[2].lower(), f[4], f[5]) for f in found if f is not None}
    out: list[str] = []
    for line, fields in zip(lines, found, strict=True):
        out.append(line)
        if fields is None or fields[6:8] != ["typ", "host"]:
            continue
        foundation, component, transport, priority, _, port = fields[:6]
        twin_key = (component, transport.lower(), address, port)
        if twin_key in named:
            continue
        named.add(twin_key)
        twin = [f"{_TWIN_FOUNDATION}{foundation}", component, transport, str(int(priority) + 1)]
        out.append("a=candidate:" + " ".join([*twin, address, port, *fields[6:]]))
    return "\r\n".join(out)


def _fields(line: str) -> list[str] | None:
    """The fields of an ICE candidate line (foundation, component, transport, priority,
    address, port, "typ", type...), or None for any other line."""
    if not line.startswith("a=candidate:"):
        return None
    fields = line.removeprefix("a=candidate:").split()
    return fields if len(fields) >= 8 else None
