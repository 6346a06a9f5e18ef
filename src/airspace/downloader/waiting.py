"""``--wait``: a scheduled Space is waited for, with a countdown, and recorded from its
first second once its host starts it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from airspace.downloader.errors import NotRecorded
from airspace.downloader.net import Http
from airspace.downloader.progress import Progress, ProgressCallback
from airspace.downloader.sources import airspace_space, classify, moment
from airspace.web.formatting import duration

POLL_SECONDS = 2.0
"""How often the Space is asked about while its start is near or past."""
FAR_POLL_SECONDS = 30.0
"""… and while it is still far off."""


def countdown(starts: datetime | None, now: datetime) -> str:
    """What the progress bar says while waiting."""
    if starts is None:
        return "waiting for the host to start the Space"
    left = (starts - now).total_seconds()
    if left <= 0:
        return "due to start: waiting for the host"
    return f"starts in {duration(left)}"


async def wait_for_start(
    url: str,
    http: Http,
    token: str | None,
    state: Progress,
    report: ProgressCallback,
    far_poll_seconds: float = FAR_POLL_SECONDS,
) -> None:
    """Return once the Space at ``url`` is live (or over); raise NotRecorded if it is
    canceled meanwhile. Only Airspace links have a schedule to wait on. Nothing is lost
    to the pause between two looks: what was said before is joined from the replay."""
    if classify(url) != "airspace":
        return
    while True:
        space = await airspace_space(url, http, token)
        if space.get("state") == "canceled":
            raise NotRecorded("the Space was canceled before it started")
        if space.get("state") != "scheduled":
            state.waiting_for = ""
            return
        starts = moment(space.get("scheduled_start"))
        now = datetime.now(UTC)
        state.stage = "waiting"
        state.waiting_for = countdown(starts, now)
        report(state)
        far = starts is not None and (starts - now).total_seconds() > 2 * far_poll_seconds
        await asyncio.sleep(far_poll_seconds if far else POLL_SECONDS)
