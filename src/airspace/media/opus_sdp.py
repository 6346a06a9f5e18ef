"""Opus's format parameters in SDP (RFC 7587 ``a=fmtp``): what each side asks of the
voice it receives, in-band FEC and DTX above all.

Each side's parameters say what it wants to receive: ``useinbandfec=1`` asks the sender
to carry FEC, ``usedtx=1`` lets it stop sending in silence. A browser asks for FEC in its
offer; the room asks for both in its answer (aiortc writes no Opus parameters itself).
"""

from __future__ import annotations

import re

LOSS_PROTECTION = {"useinbandfec": "1", "usedtx": "1"}
"""What the room asks of a speaker's microphone: FEC, and nothing sent in silence."""

_OPUS_MAP = re.compile(r"^a=rtpmap:(\d+) opus/48000", re.I)


def _opus_payload_type(lines: list[str]) -> str | None:
    for line in lines:
        found = _OPUS_MAP.match(line)
        if found:
            return found.group(1)
    return None


def opus_parameters(sdp: str) -> dict[str, str]:
    """The Opus format parameters of ``sdp`` (its first Opus payload type)."""
    lines = sdp.split("\r\n")
    payload = _opus_payload_type(lines)
    prefix = f"a=fmtp:{payload} "
    for line in lines:
        if payload is not None and line.startswith(prefix):
            pairs = (part.strip().partition("=") for part in line[len(prefix) :].split(";"))
            return {name.lower(): value for name, _, value in pairs if name}
    return {}


def with_opus_parameters(sdp: str, wanted: dict[str, str]) -> str:
    """``sdp`` with ``wanted`` among its Opus format parameters (others kept)."""
    lines = sdp.split("\r\n")
    payload = _opus_payload_type(lines)
    if payload is None:
        return sdp
    merged = {**opus_parameters(sdp), **wanted}
    fmtp = f"a=fmtp:{payload} " + ";".join(f"{name}={value}" for name, value in merged.items())
    prefix = f"a=fmtp:{payload} "
    if any(line.startswith(prefix) for line in lines):
        return "\r\n".join(fmtp if line.startswith(prefix) else line for line in lines)
    out: list[str] = []
    for line in lines:
        out.append(line)
        if _OPUS_MAP.match(line) and line.split()[0] == f"a=rtpmap:{payload}":
            out.append(fmtp)
    return "\r\n".join(out)


def asks_for_fec(sdp: str) -> bool:
    return opus_parameters(sdp).get("useinbandfec") == "1"


def allows_dtx(sdp: str) -> bool:
    return opus_parameters(sdp).get("usedtx") == "1"
