"""A UDP relay that impairs what passes through it, as a real network does: delay with
jitter (packets may overtake each other), and random or bursty loss.

This machine's kernel has no ``netem``, so the bench puts one of these between each
speaker and the room, and rewrites the one candidate each side offers so that both
sides reach the other through it: the speaker's candidate becomes the relay's
server-facing socket and the room's the relay's speaker-facing one. Each side then sees
the other at the address it was told, and every packet (ICE checks, DTLS, RTP, RTCP)
crosses the relay.
"""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import dataclass, field

_CANDIDATE = re.compile(r"^a=candidate:(\S+) (\d) (udp) (\d+) (\S+) (\d+) typ host(.*)$", re.I)


@dataclass
class Impairment:
    """What one direction of the path does to packets."""

    delay_ms: float = 25.0
    """One-way delay: half the round trip."""
    jitter_ms: float = 20.0
    """Each packet's delay is ``delay_ms`` ± up to this (uniform), as netem's jitter."""
    loss: float = 0.0
    """Random loss: the share of packets dropped, each on its own."""
    burst_loss: float = 0.0
    """Bursty loss (Gilbert-Elliott) with this average share, in bursts of
    ``burst_packets`` on average; ``loss`` is then unused."""
    burst_packets: float = 3.0
    _bad: bool = False
    _random: random.Random = field(default_factory=lambda: random.Random(7))

    def drops(self) -> bool:
        if self.burst_loss:
            # Two states: good (no loss) and bad (all lost). Leaving bad with 1/burst
            # gives bursts of that mean length; entering it is chosen so that the share
            # of time spent in bad is burst_loss.
            leave = 1 / self.burst_packets
            enter = leave * self.burst_loss / (1 - self.burst_loss)
            if self._bad:
                self._bad = self._random.random() >= leave
            else:
                self._bad = self._random.random() < enter
            return self._bad
        return self._random.random() < self.loss

    def delay(self) -> float:
        spread = self._random.uniform(-self.jitter_ms, self.jitter_ms)
        return max(0.0, self.delay_ms + spread) / 1000


class _Side(asyncio.DatagramProtocol):
    def __init__(self, relay: ImpairedRelay, facing: str) -> None:
        self.relay = relay
        self.facing = facing
        self.transport: asyncio.DatagramTransport | None = None

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.relay.arrived(self.facing, data)


class ImpairedRelay:
    """Between one speaker (``speaker_address``) and the room (``room_address``).
    ``impaired``: whether the impairments apply yet (off while the call is set up)."""

    def __init__(self, upstream: Impairment, downstream: Impairment) -> None:
        self.upstream = upstream
        self.downstream = downstream
        self.impaired = False
        self.cut = False
        """Everything dropped both ways (the network is gone)."""
        self.speaker_address: tuple[str, int] | None = None
        self.room_address: tuple[str, int] | None = None
        self._speaker_side: _Side | None = None
        self._room_side: _Side | None = None
        self.passed = {"up": 0, "down": 0}
        self.dropped = {"up": 0, "down": 0}

    async def start(self, host: str) -> None:
        """Listen on ``host`` (the address the peers' candidates are on)."""
        loop = asyncio.get_running_loop()
        for facing in ("speaker", "room"):
            transport, side = await loop.create_datagram_endpoint(
                lambda facing=facing: _Side(self, facing),  # type: ignore[misc]
                local_addr=(host, 0),
            )
            side.transport = transport
            if facing == "speaker":
                self._speaker_side = side
            else:
                self._room_side = side

    @staticmethod
    def _port(side: _Side | None) -> int:
        if side is None or side.transport is None:
            raise RuntimeError("the relay is not started")
        return int(side.transport.get_extra_info("sockname")[1])

    def offer_through(self, offer_sdp: str) -> str:
        """The speaker's offer, its candidate replaced by the relay's room-facing one."""
        sdp, self.speaker_address = _one_candidate(offer_sdp, self._port(self._room_side))
        return sdp

    def answer_through(self, answer_sdp: str) -> str:
        """The room's answer, its candidate replaced by the relay's speaker-facing one."""
        sdp, self.room_address = _one_candidate(answer_sdp, self._port(self._speaker_side))
        return sdp

    def arrived(self, facing: str, data: bytes) -> None:
        """A packet from the speaker (goes up to the room) or from the room (down)."""
        up = facing == "speaker"
        direction = "up" if up else "down"
        out_side = self._room_side if up else self._speaker_side
        target = self.room_address if up else self.speaker_address
        impairment = self.upstream if up else self.downstream
        if target is None or out_side is None or out_side.transport is None:
            return
        if self.cut or (self.impaired and impairment.drops()):
            self.dropped[direction] += 1
            return
        self.passed[direction] += 1
        transport = out_side.transport
        if not self.impaired:
            transport.sendto(data, target)
            return
        asyncio.get_running_loop().call_later(impairment.delay(), _send, transport, data, target)

    def close(self) -> None:
        for side in (self._speaker_side, self._room_side):
            if side is not None and side.transport is not None:
                side.transport.close()


def _send(transport: asyncio.DatagramTransport, data: bytes, target: tuple[str, int]) -> None:
    if not transport.is_closing():  # the relay may close while packets are on the way
        transport.sendto(data, target)


def candidate_host(sdp: str) -> str:
    """The address of the first UDP host candidate in ``sdp``."""
    for line in sdp.split("\r\n"):
        found = _CANDIDATE.match(line)
        if found is not None:
            return found.group(5)
    raise ValueError("the SDP has no UDP host candidate to relay")


def _one_candidate(sdp: str, relay_port: int) -> tuple[str, tuple[str, int]]:
    """``sdp`` with its first UDP host candidate moved to the relay's port on the same
    address (every other candidate removed); and where that candidate really was."""
    out: list[str] = []
    real: tuple[str, int] | None = None
    for line in sdp.split("\r\n"):
        found = _CANDIDATE.match(line)
        if line.startswith("a=candidate:") and (found is None or real is not None):
            continue
        if found is not None:
            foundation, component, transport, priority, address, port, rest = found.groups()
            real = (address, int(port))
            line = (
                f"a=candidate:{foundation} {component} {transport} {priority} "
                f"{address} {relay_port} typ host{rest}"
            )
        out.append(line)
    if real is None:
        raise ValueError("the SDP has no UDP host candidate to relay")
    return "\r\n".join(out), real
