"""The replay player in a real browser (Debian's Chromium, headless, driven by
Playwright): a Space recorded live with spoken sentences plays back with speed,
seeking, keyboard, captions with speaker names, the transcript, a start time from the
link, a moved start time, and the embed. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from airspace.media.peer import SpeakerPeer, recording
from airspace.moderation.models import Report
from tests.captions.test_captions_end_to_end import scheduled, wait_for_captions
from tests.conftest import LiveServer
from tests.e2e.pages import wait_until
from tests.live.test_speakers import connect_microphone

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
SENTENCES = (
    "Welcome everyone to our weekly conversation about science. "
    "Today we are talking about the ocean and the animals that live in it."
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def recorded_space(live_server: LiveServer) -> tuple[str, dict[str, str]]:
    host = live_server.register("alice")
    with httpx.Client(
        follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
    ) as http:
        http.patch("/api/v1/me", json={"display_name": "Alice Host"}).raise_for_status()
    space_id = live_server.create_space(
        host, record=True, title="Science weekly", description="The ocean and its animals"
    )
    speech = scheduled(0.5, SENTENCES)

    async def live_part() -> None:
        async with httpx.AsyncClient(
            follow_redirects=True, base_url=live_server.base, headers=host, timeout=20
        ) as http:
            await http.post(f"/api/v1/spaces/{space_id}/start")
            await http.post(f"/api/v1/spaces/{space_id}/room/join")
            peer = SpeakerPeer(recording(speech))
            await connect_microphone(http, space_id, peer)
            await asyncio.sleep(len(speech) / 48_000 + 1.0)
            await peer.close()
            await http.post(f"/api/v1/spaces/{space_id}/end")

    # Playwright's synchronous API holds this thread's event loop: speak from another.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, live_part()).result()
    with httpx.Client(follow_redirects=True, base_url=live_server.base, timeout=20) as http:
        assert wait_for_captions(http, space_id)["captions"]["status"] == "done"
    return space_id, host


def wait_ready(page: Page) -> None:
    page.wait_for_selector(".player.ready", timeout=30_000)


def current_time(page: Page) -> float:
    value: float = page.evaluate("document.querySelector('.player audio').currentTime")
    return value


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_replay_player_in_chromium(live_server: LiveServer, browser: Browser) -> None:
    space_id, host = recorded_space(live_server)
    base = live_server.base
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    # A shared link with ?t= opens at that time.
    page.goto(f"{base}/i/spaces/{space_id}?t=3")
    wait_ready(page)
    assert current_time(page) == pytest.approx(3.0, abs=0.3)
    html = page.content()
    assert 'property="og:title" content="Science weekly"' in html
    assert "application/json+oembed" in html

    page.get_by_role("button", name="Play").click()
    wait_until(page, "!document.querySelector('.player audio').paused")
    wait_until(page, "document.querySelector('.player audio').currentTime > 3.5")

    page.get_by_label("Playback speed").select_option("1.5")
    assert page.evaluate("document.querySelector('.player audio').playbackRate") == 1.5

    before = current_time(page)
    page.locator("body").press("ArrowRight")
    assert current_time(page) >= before + 4
    page.get_by_role("button", name="Back 15 seconds").click()
    assert current_time(page) < 1.0

    # Captions show the current cue with its speaker; "c" turns them off and on.
    page.locator(".transcript-panel summary").click()
    page.locator(".transcript li button").nth(1).click()
    wait_until(page, "document.querySelector('.caption').textContent.startsWith('Alice Host:')")
    assert "Alice Host:" in page.locator(".transcript li.current").inner_text()
    page.locator("body").press("c")
    assert page.get_by_role("button", name="Captions").get_attribute("aria-pressed") == "false"
    page.locator("body").press("c")
    page.get_by_role("button", name="Share").click()
    assert f"/i/spaces/{space_id}/embed" in page.locator(".embed-code").first.input_value()

    # A listener reports the Space from where they are in it.
    page.get_by_role("button", name="Report").click()
    dialog = page.get_by_role("dialog", name="Report this Space")
    dialog.get_by_label("Reason").select_option("spam")
    dialog.get_by_label("Details (optional)").fill("Selling watches")
    dialog.get_by_role("button", name="Send report").click()
    expect(dialog.get_by_role("status")).to_have_text("Thank you. A moderator will look at it.")
    expect(dialog).to_be_hidden()
    with live_server.services.sessions() as session:
        [report] = session.scalars(select(Report)).all()
        assert (report.reason, report.details) == ("spam", "Selling watches")
    page.screenshot(path=str(SCREENSHOTS / "replay.png"))

    phone = browser.new_page(viewport={"width": 375, "height": 800})
    phone.goto(f"{base}/i/spaces/{space_id}")
    wait_ready(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot(path=str(SCREENSHOTS / "replay-phone.png"), full_page=True)

    # The host moves the start: the player's replay is shorter by as much.
    with httpx.Client(follow_redirects=True, base_url=base, headers=host, timeout=20) as http:
        moved = http.patch(
            f"/api/v1/spaces/{space_id}/recording", json={"start_offset_seconds": 2.0}
        ).json()
    page.goto(f"{base}/i/spaces/{space_id}")
    wait_ready(page)
    duration = page.evaluate("document.querySelector('.player audio').duration")
    assert duration == pytest.approx(moved["playable_seconds"], abs=0.05)

    embed = browser.new_page(viewport={"width": 480, "height": 320})
    embed.goto(f"{base}/i/spaces/{space_id}/embed")
    wait_ready(embed)
    embed.get_by_role("button", name="Play").click()
    wait_until(embed, "document.querySelector('.player audio').currentTime > 0.5")
    embed.screenshot(path=str(SCREENSHOTS / "embed.png"))
    with httpx.Client(follow_redirects=True, base_url=base, timeout=20) as http:
        card = http.get("/api/v1/oembed", params={"url": f"{base}/i/spaces/{space_id}"}).json()
    assert card["type"] == "rich"
    assert f"/i/spaces/{space_id}/embed" in card["html"]
    time.sleep(0.1)
    assert errors == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_host_moves_the_start_and_deletes_in_chromium(
    live_server: LiveServer, browser: Browser
) -> None:
    space_id, _ = recorded_space(live_server)
    base = live_server.base
    context = browser.new_context(viewport={"width": 1000, "height": 1100})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("pw-12345678")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/i/spaces/{space_id}")
    wait_ready(page)  # signed in, the player's writes carry the CSRF token
    panel = page.get_by_role("region", name="Your recording")
    assert panel.locator(".stats").inner_text().split() == [
        "Participants",
        "1",
        "Peak",
        "listeners",
        "0",
        "Replays",
        "0",
    ]
    full = page.evaluate("document.querySelector('.player audio').duration")

    # The host drags the start to 2.5 s, previews, saves: listeners start there.
    panel.get_by_role("slider", name="Start time").fill("2.5")
    assert panel.locator(".offset-value").inner_text() == "0:02"
    panel.get_by_role("button", name="Preview from here").click()
    assert "Previewing from 0:02" in panel.locator(".host-status").inner_text()
    panel.get_by_role("button", name="Save start time").click()
    page.wait_for_load_state("load")
    wait_until(
        page, f"document.querySelector('.player audio').duration < {full - 2}", timeout=30_000
    )
    page.screenshot(path=str(SCREENSHOTS / "host-panel.png"))
    # Each speaker's own track, to download for editing.
    panel.locator(".speaker-tracks summary").click()
    track = panel.locator(".track-list a")
    track.wait_for()
    assert track.inner_text() == "Alice Host"
    href = track.get_attribute("href") or ""
    assert href.endswith(f"/i/spaces/{space_id}/tracks/alice.ogg")
    panel.locator(".speaker-tracks").screenshot(path=str(SCREENSHOTS / "speaker-tracks.png"))
    download = context.request.get(href)
    assert download.status == 200
    assert download.headers["content-type"] == "audio/ogg"
    assert download.body().startswith(b"OggS")
    with httpx.Client(follow_redirects=True, base_url=base, timeout=20) as http:
        recording = http.get(f"/api/v1/spaces/{space_id}/recording").json()
        assert http.get(href).status_code == 403  # the host's alone
    assert recording["start_offset_seconds"] == 2.5

    # Deleting asks first; declining keeps it, accepting removes it for everyone.
    page.once("dialog", lambda dialog: dialog.dismiss())
    panel.get_by_role("button", name="Delete recording").click()
    assert http_state(base, space_id) == 200
    page.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Delete recording").click()
    page.wait_for_selector("text=This recording was deleted.")
    assert http_state(base, space_id) == 410
    assert errors == []


def http_state(base: str, space_id: str) -> int:
    with httpx.Client(follow_redirects=True, base_url=base, timeout=20) as http:
        return http.get(f"/api/v1/spaces/{space_id}/recording").status_code
