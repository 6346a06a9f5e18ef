"""A whole Space in real browsers (two Chromium processes, each with a fake microphone
that reads a spoken WAV file): the host signs up, names themselves, creates a recorded
Space and goes live with the microphone; a listener hears the stream, asks to speak, is
approved and talks; the host ends the Space; the replay plays with both speakers'
captions. Screenshots of each page go to docs/screenshots/."""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from airspace.media.peer import SpeakerPeer, recording
from tests.captions.test_captions_end_to_end import scheduled
from tests.conftest import LiveServer
from tests.e2e.pages import wait_until
from tests.e2e.test_browser_replay import CHROMIUM, SCREENSHOTS, wait_ready
from tests.live.test_speakers import connect_microphone

HOST_SAYS = "Good evening and welcome to the garden show."
GUEST_SAYS = "Thank you for having me on the show tonight."
PASSWORD = "pw-12345678"


def spoken_wav(path: Path, text: str, voice: str) -> Path:
    """``text`` spoken, then a long silence: the fake microphone loops its file."""
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(
        ["sox", str(raw), "-r", "48000", "-c", "1", "-b", "16", str(path), "pad", "0.5", "60"],
        check=True,
    )
    return path


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


def browser_speaking(playwright: Playwright, wav: Path) -> Browser:
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-audio-capture={wav}",
            "--autoplay-policy=no-user-gesture-required",
        ],
    )


def watch_errors(page: Page, errors: list[str]) -> None:
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)


def sign_up(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("link", name="Create a Space")).to_be_visible()


UNNAMED_CONTROLS = """() => [...document.querySelectorAll(
    "button, a[href], input:not([type=hidden]), select, textarea, [role=switch], [role=slider]")]
  .filter((el) => el.offsetParent !== null)
  .filter((el) => {
    const labelled = el.getAttribute("aria-labelledby");
    const name = el.getAttribute("aria-label")
      || (labelled && document.getElementById(labelled)?.textContent)
      || [...(el.labels || [])].map((l) => l.textContent).join(" ")
      || el.textContent || el.title;
    return !name || !name.trim();
  })
  .map((el) => el.outerHTML.slice(0, 120))"""


def check_page(page: Page, width: int) -> None:
    """Every visible control has an accessible name, and nothing scrolls sideways."""
    assert page.evaluate(UNNAMED_CONTROLS) == [], page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def member(page: Page, username: str) -> str:
    return f'.room .member[data-username="{username}"]'


GUEST_SENDS_RED = """fetch('/api/v1/spaces/%s/room').then((reply) => reply.json())
  .then((room) => room.members.some((m) => m.username === "gus" && m.link && m.link.red))"""


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_space_from_sign_up_to_replay_in_two_browsers(
    live_server: LiveServer, playwright: Playwright, tmp_path: Path
) -> None:
    base = live_server.base
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    host_browser = browser_speaking(
        playwright, spoken_wav(tmp_path / "host.wav", HOST_SAYS, "en-us")
    )
    guest_browser = browser_speaking(
        playwright, spoken_wav(tmp_path / "guest.wav", GUEST_SAYS, "en-gb")
    )
    errors: list[str] = []
    try:
        host = host_browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
        watch_errors(host, errors)
        guest = guest_browser.new_context(viewport={"width": 375, "height": 800}).new_page()
        watch_errors(guest, errors)

        # The host signs up, names themselves, and creates a recorded Space, live now.
        host.goto(f"{base}/signup")
        check_page(host, 1100)
        host.screenshot(path=str(SCREENSHOTS / "signup.png"))
        sign_up(host, base, "hana")
        expect(host.locator(".notices")).to_contain_text("Welcome to Airspace, hana!")
        host.get_by_role("link", name="Settings (hana)").click()
        host.get_by_label("Display name").fill("Hana Host")
        host.get_by_role("button", name="Save settings").click()
        expect(host.locator(".settings > .notice")).to_have_text("Settings saved.")
        check_page(host, 1100)
        host.screenshot(path=str(SCREENSHOTS / "settings.png"))
        host.get_by_role("link", name="Create a Space").click()
        host.get_by_label("Name").fill("The garden show")
        host.get_by_label("Description").fill("Spring planting, live")
        expect(host.get_by_role("switch", name="Record Space")).to_be_checked()
        check_page(host, 1100)
        host.screenshot(path=str(SCREENSHOTS / "create.png"))
        host.get_by_role("button", name="Start your Space").click()
        host.wait_for_url(f"{base}/i/spaces/*")
        space_id = host.url.rsplit("/", 1)[1]
        room = host.get_by_role("region", name="Live room")
        expect(room.locator(".badge.rec")).to_be_visible()
        expect(host.locator(member(host, "hana"))).to_contain_text("Host")

        # The host's microphone: connected, and their voice lights their speaking ring.
        room.get_by_role("button", name="Turn on microphone").click()
        expect(host.locator(member(host, "hana"))).to_contain_text("mic on", timeout=15_000)
        expect(host.locator(member(host, "hana") + " .avatar.speaking")).to_be_visible(
            timeout=15_000
        )

        # The listener finds it on the home page, hears the stream, then asks to speak.
        sign_up(guest, base, "gus")
        guest.goto(f"{base}/")
        expect(guest.get_by_role("link", name="The garden show")).to_contain_text("Live now")
        check_page(guest, 375)
        guest.screenshot(path=str(SCREENSHOTS / "home-phone.png"), full_page=True)
        guest.goto(f"{base}/i/spaces/{space_id}")
        guest_room = guest.get_by_role("region", name="Live room")
        expect(guest_room.locator(".badge.rec")).to_be_visible()
        guest_room.get_by_role("button", name="Listen").click()
        wait_until(guest, "document.querySelector('.live-audio').currentTime > 1", timeout=20_000)
        # Chromium takes AAC through Media Source Extensions: the page's own demuxer ran.
        assert guest.evaluate("document.querySelector('.live-audio').src").startswith("blob:")
        expect(host.locator(member(host, "gus"))).to_contain_text("Listener")
        # Counted as listening because the stream plays, not because the page is open.
        expect(host.locator(".listener-count")).to_have_text(
            "1 listening · 2 in the room", timeout=10_000
        )
        guest_room.get_by_role("button", name="Ask to speak").click()
        expect(guest_room.get_by_role("button", name="Asked to speak")).to_be_disabled()

        # The host approves and mutes themselves; the guest turns on their microphone.
        expect(host.locator(".requests-section")).to_be_visible()
        room.get_by_role("button", name="Approve gus").click()
        room.get_by_role("button", name="Mute", exact=True).click()
        expect(room.get_by_role("button", name="Unmute")).to_be_visible()
        guest_room.get_by_role("button", name="Turn on microphone").click()
        expect(host.locator(member(host, "gus") + " .avatar.speaking")).to_be_visible(
            timeout=15_000
        )
        expect(host.locator(".speaking-now")).to_contain_text("Speaking: gus")
        # Chromium sends its voice as Opus in RED, as the page asks: a packet lost on the
        # way is then heard whole from the next one (the room says so in its state).
        wait_until(guest, GUEST_SENDS_RED % space_id, timeout=15_000)
        expect(host.locator(member(host, "gus"))).to_contain_text("Speaker")
        check_page(host, 1100)
        check_page(guest, 375)
        host.screenshot(path=str(SCREENSHOTS / "live-room.png"))
        guest.screenshot(path=str(SCREENSHOTS / "live-room-phone.png"), full_page=True)
        wait_until(
            guest,
            "!document.querySelector('.room .member[data-username=\"gus\"] .avatar.speaking')",
            timeout=15_000,
        )

        # A listener the host removes is told so, and cannot come back in.
        removed = guest_browser.new_context(viewport={"width": 375, "height": 800}).new_page()
        watch_errors(removed, errors)
        sign_up(removed, base, "rex")
        removed.goto(f"{base}/i/spaces/{space_id}")
        expect(host.locator(member(host, "rex"))).to_contain_text("Listener")
        host.once("dialog", lambda dialog: dialog.accept())
        room.get_by_role("button", name="Remove rex").click()
        expect(removed.get_by_role("alert")).to_have_text("You were removed from this Space.")

        # Only the host ends it; every open page turns into the replay without a reload,
        # then gets the captions when they are made.
        for page in (guest, removed):
            page.evaluate("window.openedOnce = true")
        host.once("dialog", lambda dialog: dialog.accept())
        room.get_by_role("button", name="End Space").click()
        for page in (guest, removed):
            expect(page.get_by_role("region", name="Replay player")).to_be_visible()
            wait_until(page, "document.querySelectorAll('.transcript li').length > 0", 90_000)
            expect(page.locator(".captions-status")).to_be_empty()
            assert page.evaluate("window.openedOnce === true"), "the page was reloaded"
        removed.context.close()
        wait_ready(guest)
        guest.get_by_role("button", name="Play").click()
        wait_until(guest, "document.querySelector('.player audio').currentTime > 0.5")
        guest.get_by_label("Playback speed").select_option("2")
        assert guest.evaluate("document.querySelector('.player audio').playbackRate") == 2
        guest.locator(".transcript-panel summary").click()
        lines = guest.locator(".transcript li").all_inner_texts()
        spoken = " ".join(lines).lower()
        assert any("Hana Host:" in line for line in lines), lines
        assert any("gus:" in line for line in lines), lines
        # Each voice is understood (the small model may mishear a word of a phrase).
        words = set(re.findall(r"[a-z']+", spoken))
        assert len({"evening", "welcome", "garden", "show"} & words) >= 3, lines
        assert len({"thank", "having", "show", "tonight"} & words) >= 3, lines
        guest_line = next(i for i, line in enumerate(lines) if "gus:" in line)
        guest.locator(".transcript li button").nth(guest_line).click()
        wait_until(guest, "document.querySelector('.caption').textContent.startsWith('gus:')")
        check_page(guest, 375)
        guest.screenshot(path=str(SCREENSHOTS / "replay-after-live.png"), full_page=True)

        # The host trims the start; a shared link with ?t= opens there; the embed plays.
        host.goto(f"{base}/i/spaces/{space_id}")
        wait_ready(host)
        full = host.evaluate("document.querySelector('.player audio').duration")
        panel = host.get_by_role("region", name="Your recording")
        panel.get_by_role("slider", name="Start time").fill("1.5")
        panel.get_by_role("button", name="Save start time").click()
        wait_until(
            host,
            f"document.querySelector('.player audio')?.duration < {full - 1.4}",
            timeout=30_000,
        )
        guest.goto(f"{base}/i/spaces/{space_id}?t=2")
        wait_ready(guest)
        assert guest.evaluate("document.querySelector('.player audio').currentTime") == (
            pytest.approx(2.0, abs=0.3)
        )
        guest.goto(f"{base}/i/spaces/{space_id}/embed")
        wait_ready(guest)
        guest.get_by_role("button", name="Play").click()
        wait_until(guest, "document.querySelector('.player audio').currentTime > 0.5")
        check_page(guest, 375)
        check_page(host, 1100)
        guest.goto(f"{base}/download")
        check_page(guest, 375)
        guest.screenshot(path=str(SCREENSHOTS / "download-phone.png"), full_page=True)
    finally:
        host_browser.close()
        guest_browser.close()
    assert errors == []


SAID_LIVE = "Thank you for waiting. Welcome to the show."


async def say_then_end(base: str, host: dict[str, str], space_id: str, text: str) -> None:
    """The host speaks ``text`` into the live Space from Python, then ends it."""
    async with httpx.AsyncClient(base_url=base, headers=host, timeout=20) as http:
        await http.post(f"/api/v1/spaces/{space_id}/room/join")
        speech = scheduled(0.5, text)
        peer = SpeakerPeer(recording(speech))
        await connect_microphone(http, space_id, peer)
        await asyncio.sleep(len(speech) / 48_000 + 1.0)
        await peer.close()
        (await http.post(f"/api/v1/spaces/{space_id}/end")).raise_for_status()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_scheduled_space_counts_down_and_offers_a_reminder(
    live_server: LiveServer, playwright: Playwright
) -> None:
    base = live_server.base
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    errors: list[str] = []
    try:
        context = browser.new_context(
            viewport={"width": 800, "height": 900}, timezone_id="Europe/Paris"
        )
        page = context.new_page()
        watch_errors(page, errors)
        sign_up(page, base, "sched")
        page.get_by_role("link", name="Create a Space").click()
        page.get_by_label("Name").fill("Tomorrow's talk")
        page.get_by_label("Music").check()
        page.get_by_label("Schedule").check()
        page.get_by_label("Starts at").fill("2099-01-01T10:00")
        page.get_by_role("button", name="Schedule Space").click()
        # Too far ahead: the form comes back with the reason and what was typed.
        expect(page.get_by_role("alert")).to_contain_text("at most 30 days ahead")
        expect(page.get_by_label("Name")).to_have_value("Tomorrow's talk")
        expect(page.get_by_label("Music")).to_be_checked()
        errors.clear()  # the browser logs the form's deliberate 422 as a failed load
        page.get_by_label("Starts at").fill("2026-11-23T10:00")
        page.get_by_role("button", name="Schedule Space").click()
        page.wait_for_url(f"{base}/i/spaces/*")
        space_id = page.url.rsplit("/", 1)[1]
        expect(page.get_by_role("timer")).not_to_be_empty()
        expect(page.get_by_role("button", name="Start now")).to_be_visible()
        check_page(page, 800)
        page.screenshot(path=str(SCREENSHOTS / "scheduled.png"))
        with page.expect_download() as download:
            page.get_by_role("link", name="Add a reminder").click()
        reminder = Path(download.value.path()).read_text()
        assert "DTSTART:20261123T090000Z" in reminder  # 10:00 in Paris is 09:00 UTC
        assert f"{base}/i/spaces/{space_id}" in reminder.replace("\r\n ", "")
        assert "SUMMARY:Tomorrow's talk (Airspace)" in reminder

        # On the download page the host asks for it ahead, to be told and get the file.
        downloads = context.new_page()
        watch_errors(downloads, errors)
        downloads.goto(f"{base}/download")
        downloads.get_by_label("Paste a Space link").fill(f"{base}/i/spaces/{space_id}")
        downloads.get_by_role("button", name="Get the audio").click()
        expect(downloads.locator("#ahead-title")).to_have_text("Tomorrow's talk")
        # (The browser's clock is real; the server's, the tests' own, is days behind it.)
        expect(downloads.locator("#ahead-when")).to_have_text("is due to start.")
        downloads.get_by_role("button", name="Notify me and download it (MP3)").click()
        waiting = downloads.get_by_role("region", name="Waiting to download")
        expect(waiting.get_by_role("link", name="Tomorrow's talk")).to_be_visible()
        check_page(downloads, 800)
        downloads.screenshot(path=str(SCREENSHOTS / "download-ahead.png"))

        # A visitor waits on the page; the host starts it early from theirs, and the
        # visitor's page goes live by itself.
        visitor = browser.new_page(viewport={"width": 375, "height": 800})
        watch_errors(visitor, errors)
        visitor.goto(f"{base}/i/spaces/{space_id}")
        expect(visitor.get_by_role("timer")).not_to_be_empty()
        visitor.evaluate("window.openedOnce = true")
        page.get_by_role("button", name="Start now").click()
        expect(page.get_by_role("region", name="Live room")).to_be_visible()
        expect(visitor.get_by_role("region", name="Live room")).to_be_visible()
        expect(visitor.locator(".phase-announcer")).to_have_text("This Space is live now.")
        assert visitor.evaluate("window.openedOnce === true"), "the page was reloaded"

        # The host says a sentence and ends the Space: the same page becomes the replay,
        # says its captions are being made, and shows them when they are.
        csrf = page.evaluate("document.querySelector('meta[name=csrf-token]').content")
        made = page.request.post(
            f"{base}/api/v1/me/tokens", data={"name": "speaker"}, headers={"X-CSRF-Token": csrf}
        )
        host = {"Authorization": f"Bearer {made.json()['token']}"}
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, say_then_end(base, host, space_id, SAID_LIVE)).result()
        expect(visitor.get_by_role("region", name="Replay player")).to_be_visible()
        wait_until(visitor, "document.querySelectorAll('.transcript li').length > 0", 90_000)
        heard = " ".join(visitor.locator(".transcript li").all_text_contents()).lower()
        said = {"thank", "waiting", "welcome", "show"}
        assert len(said & set(re.findall(r"[a-z]+", heard))) >= 3, heard
        expect(visitor.locator(".captions-status")).to_be_empty()
        assert visitor.evaluate("window.openedOnce === true"), "the page was reloaded"

        # The host was told it started, then that the file is ready; the notification
        # leads to the download page with the file.
        ready = downloads.get_by_role("link", name="Your MP3 of Tomorrow's talk is ready")
        deadline = time.monotonic() + 90
        while downloads.goto(f"{base}/notifications") and not ready.count():
            assert time.monotonic() < deadline, "the host was never told the file is ready"
            downloads.wait_for_timeout(1000)
        expect(downloads.get_by_text("Tomorrow's talk has started")).to_be_visible()
        ready.click()
        saving = downloads.get_by_role("link", name=re.compile(r"^Download \(\d+:\d\d\)$"))
        expect(saving).to_be_visible(timeout=30_000)
        with downloads.expect_download() as saved:
            saving.click()
        assert saved.value.suggested_filename == "sched - Tomorrow's talk (2026-11-21).mp3"

        # An address that leads nowhere is a page in the site's layout, not JSON.
        missing = visitor.goto(f"{base}/i/nowhere")
        assert missing is not None
        assert missing.status == 404
        expect(visitor.get_by_role("heading", name="Page not found")).to_be_visible()
        expect(visitor.get_by_role("link", name="Back home")).to_be_visible()
        errors.clear()  # the browser logs the 404 it was sent to
    finally:
        browser.close()
    assert errors == []
