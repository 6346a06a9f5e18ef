"""A media process counts as falling behind when its rooms' ticks stay late, not for one
pause, and keeps up again only once well under the limit."""

from __future__ import annotations

from airspace.media.tick_lateness import TickLateness

FRAME = 0.02


def run(lateness: TickLateness, since: float, seconds: float, delay: float) -> float:
    """Ticks for ``seconds`` from ``since``, each woken ``delay`` late; returns the end."""
    now = since
    for _ in range(round(seconds / FRAME)):
        now += FRAME
        lateness.woke(delay, now)
        lateness.behind(-FRAME, now)  # caught up: the next tick is ahead
    return now


def test_one_long_pause_is_not_falling_behind() -> None:
    lateness = TickLateness("room")
    now = run(lateness, 0.0, 1.0, 0.0005)
    lateness.woke(1.5, now + 1.5)  # the process stopped for a moment (starting, say)
    now = run(lateness, now + 1.5, 4.5, 0.0005)
    assert not lateness.falling_behind


def test_a_busy_loop_falls_behind_and_keeps_up_only_well_under_the_limit() -> None:
    lateness = TickLateness("room")
    now = run(lateness, 0.0, 2.5, 0.0008)
    assert not lateness.falling_behind
    now = run(lateness, now, 4.5, 0.012)  # every tick woken 12 ms late
    assert lateness.falling_behind
    assert lateness.seconds >= 0.012
    now = run(lateness, now, 4.5, 0.004)  # better, but still too busy for more
    assert lateness.falling_behind
    run(lateness, now, 4.5, 0.001)
    assert not lateness.falling_behind


def test_ticks_that_cost_more_than_real_time_fall_behind_at_once() -> None:
    lateness = TickLateness("room")
    now = run(lateness, 0.0, 2.5, 0.0005)
    lateness.behind(0.08, now + 0.01)  # still four frames behind after catching up
    assert lateness.falling_behind
