"""How each speaker's connection is doing: the share of their packets lost, the jitter
of their arrivals (from the RTP the room receives), and the round trip (from the RTCP
receiver reports their browser sends about the mix the room sends back).

The room shows a "poor connection" badge past any of the thresholds below: around 5 %
loss Opus starts to crackle even with concealment, and jitter or a round trip past
these is heard as late, choppy speech.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airspace.media.constants import SAMPLE_RATE

POOR_LOSS = 0.05
POOR_JITTER_MS = 40.0
POOR_RTT_MS = 400.0
RTP_CLOCK = SAMPLE_RATE
"""Opus's RTP clock: jitter is reported in its ticks."""


@dataclass(frozen=True)
class LinkQuality:
    loss: float
    """Share of the speaker's packets lost since the last measure, 0 to 1."""
    jitter_ms: float
    rtt_ms: float | None
    """None until the speaker's first receiver report."""
    red: bool = False
    """Whether their packets each carry the one before (RED): a lost one is heard whole."""

    @property
    def poor(self) -> bool:
        return (
            self.loss >= POOR_LOSS
            or self.jitter_ms >= POOR_JITTER_MS
            or (self.rtt_ms is not None and self.rtt_ms >= POOR_RTT_MS)
        )

    def public(self) -> dict[str, Any]:
        return {
            "loss_percent": round(self.loss * 100, 1),
            "jitter_ms": round(self.jitter_ms, 1),
            "rtt_ms": round(self.rtt_ms) if self.rtt_ms is not None else None,
            "poor": self.poor,
            "red": self.red,
        }


class QualityMeter:
    """Turns successive stats reports of one peer connection into LinkQuality."""

    def __init__(self) -> None:
        self.received = 0
        self.lost = 0

    def measure(self, report: dict[str, Any]) -> LinkQuality | None:
        """``report``: ``RTCPeerConnection.getStats()``; None before any packet came."""
        inbound = _first(report, "inbound-rtp")
        if inbound is None:
            return None
        received, lost = int(inbound.packetsReceived), max(0, int(inbound.packetsLost))
        new_received, new_lost = received - self.received, lost - self.lost
        self.received, self.lost = received, lost
        expected = new_received + max(0, new_lost)
        loss = max(0, new_lost) / expected if expected > 0 else 0.0
        remote = _first(report, "remote-inbound-rtp")
        rtt = getattr(remote, "roundTripTime", None) if remote is not None else None
        return LinkQuality(
            loss=loss,
            jitter_ms=float(inbound.jitter) * 1000 / RTP_CLOCK,
            rtt_ms=float(rtt) * 1000 if rtt is not None else None,
        )


def _first(report: dict[str, Any], kind: str) -> Any:
    return next((stats for stats in report.values() if getattr(stats, "type", "") == kind), None)
