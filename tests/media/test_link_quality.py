"""Connection quality from a peer connection's stats: loss between two measures, jitter
in milliseconds, the round trip, and when it counts as poor."""

from __future__ import annotations

from types import SimpleNamespace

from airspace.media.link_quality import LinkQuality, QualityMeter


def report(received: int, lost: int, jitter: int, rtt: float | None = None) -> dict[str, object]:
    stats: dict[str, object] = {
        "in": SimpleNamespace(
            type="inbound-rtp", packetsReceived=received, packetsLost=lost, jitter=jitter
        )
    }
    if rtt is not None:
        stats["remote"] = SimpleNamespace(type="remote-inbound-rtp", roundTripTime=rtt)
    return stats


def test_loss_is_measured_between_two_reports() -> None:
    meter = QualityMeter()
    first = meter.measure(report(100, 0, 480, 0.05))
    assert first == LinkQuality(loss=0.0, jitter_ms=10.0, rtt_ms=50.0)
    assert not first.poor
    # 90 arrived and 10 were lost since: 10 % of the last stretch, not of the whole call.
    second = meter.measure(report(190, 10, 480, 0.05))
    assert second is not None
    assert second.loss == 0.1
    assert second.poor
    assert second.public() == {
        "loss_percent": 10.0,
        "jitter_ms": 10.0,
        "rtt_ms": 50,
        "poor": True,
        "red": False,
    }
    third = meter.measure(report(290, 10, 480))
    assert third is not None
    assert (third.loss, third.rtt_ms, third.poor) == (0.0, None, False)


def test_jitter_or_a_long_round_trip_is_poor_too() -> None:
    assert LinkQuality(0.0, 45.0, 80.0).poor
    assert LinkQuality(0.0, 5.0, 450.0).poor
    assert not LinkQuality(0.04, 39.0, 399.0).poor


def test_nothing_is_said_before_the_first_packet() -> None:
    assert QualityMeter().measure({}) is None
