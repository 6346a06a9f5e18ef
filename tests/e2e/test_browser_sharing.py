"""Following, sharing and clips in a real browser, with three accounts: a listener
follows the host and hears at once when the host goes live; clips the recording from the
player and plays the clip's page; shares the recording with their own follower, who finds
it in Following; an account the host blocked sees no share or clip controls and is
refused by the API."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from airspace.clock import SettableClock
from airspace.recordings.models import Recording, SpeakerTurn
from tests.conftest import LiveServer
from tests.e2e.pages import wait_until
from tests.e2e.test_browser_replay import SCREENSHOTS, browser, wait_ready
from tests.sharing.recorded import recorded_space

__all__ = ["browser"]  # the module's browser fixture, shared


def signed_in(browser: Browser, base: str, username: str) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 1000})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-12345678")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    return context, page


@contextmanager
def another_site(html: str) -> Iterator[str]:
    """Another site on this machine (another origin) serving ``html``; its address."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def watch_for_errors(page: Page, errors: list[str]) -> None:
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_follow_notify_share_and_block_in_chromium(
    live_server: LiveServer, browser: Browser, clock: SettableClock
) -> None:
    services, base = live_server.services, live_server.base
    host = live_server.register("alice")
    with httpx.Client(base_url=base, headers=host, timeout=20) as http:
        http.patch("/api/v1/me", json={"display_name": "Alice Host"}).raise_for_status()
    space_id, _ = recorded_space(base, services, clock, host, 12, "Science weekly")
    with services.sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.space_id == space_id)).one()
        for name, start, end in (("Alice Host", 0.5, 5.0), ("Bob Guest", 6.0, 11.0)):
            session.add(
                SpeakerTurn(
                    recording_id=recording.id,
                    user_id=None,
                    speaker_name=name,
                    start_seconds=start,
                    end_seconds=end,
                )
            )
        session.commit()
    live_server.register("bob")
    live_server.register("cyd")
    eve = live_server.register("eve")
    errors: list[str] = []

    # Bob follows Alice from her profile page.
    _, bob = signed_in(browser, base, "bob")
    watch_for_errors(bob, errors)
    bob.goto(f"{base}/@alice")
    bob.get_by_role("button", name="Follow").click()
    expect(bob.get_by_role("button", name="Following")).to_be_visible()
    expect(bob.locator(".followers")).to_have_text("1 follower")

    # Alice goes live: Bob's bell counts it without a reload.
    with httpx.Client(base_url=base, headers=host, timeout=20) as http:
        live = http.post("/api/v1/spaces", json={"title": "Surprise show"}).json()["id"]
        http.post(f"/api/v1/spaces/{live}/start").raise_for_status()
    expect(bob.locator(".bell .unread-count")).to_have_text("1", timeout=10_000)
    bob.locator(".bell").click()
    expect(bob.get_by_role("link", name="Alice Host is live: Surprise show")).to_be_visible()
    bob.screenshot(path=str(SCREENSHOTS / "notifications.png"))

    # Cyd follows Bob; Bob shares the recording from the player's share sheet.
    _, cyd = signed_in(browser, base, "cyd")
    watch_for_errors(cyd, errors)
    cyd.goto(f"{base}/@bob")
    cyd.get_by_role("button", name="Follow").click()
    expect(cyd.get_by_role("button", name="Following")).to_be_visible()

    bob.goto(f"{base}/i/spaces/{space_id}")
    wait_ready(bob)
    # Chapters from who spoke when, and a button to the next speaker.
    bob.locator(".chapters-panel summary").click()
    expect(bob.locator(".chapter-list li").first).to_contain_text("0:00")
    bob.get_by_role("button", name="Next speaker").click()
    wait_until(bob, "document.querySelector('.player audio').currentTime > 0")
    bob.get_by_role("button", name="Previous speaker").click()
    bob.locator("button.share").click()
    sheet = bob.locator(".share-menu")
    sheet.get_by_role("button", name="Copy link", exact=True).click()
    expect(sheet.locator(".copy-status")).to_have_text("Copied the link.")
    # The embed codes, pasted into another site's page, show the player with its Play
    # button inside the frame (the full player, and the compact one).
    for label, height in (("Embed code", 420), ("Compact embed code (180 px high)", 180)):
        code = sheet.get_by_label(label, exact=True).input_value()
        assert f'height="{height}"' in code
        elsewhere = bob.context.new_page()
        blog = f"<!doctype html><title>A blog</title><p>Listen:</p>{code}"
        with another_site(blog) as blog_url:
            elsewhere.goto(blog_url)
        play = elsewhere.frame_locator("iframe").get_by_role("button", name="Play")
        expect(play).to_be_visible()
        expect(play).to_be_in_viewport(ratio=1)
        if height == 180:
            elsewhere.screenshot(
                path=str(SCREENSHOTS / "embed-compact.png"),
                clip={"x": 0, "y": 0, "width": 500, "height": 240},
            )
        elsewhere.close()
    sheet.get_by_label("Comment (optional)").fill("The part about whales")
    sheet.get_by_role("button", name="Share", exact=True).click()
    expect(sheet.locator(".share-status")).to_have_text("Shared with your followers.")
    bob.screenshot(path=str(SCREENSHOTS / "share-sheet.png"))

    # Bob clips five seconds from the player and opens the clip's page, which plays.
    bob.get_by_role("button", name="Clip", exact=True).click()
    panel = bob.locator(".clip-panel")
    expect(bob.locator(".clip-range")).to_be_visible()
    panel.get_by_label("Title").fill("Whales sing")
    panel.locator(".clip-start").fill("1")
    panel.locator(".clip-length").fill("5")
    panel.get_by_role("button", name="Preview").click()
    wait_until(bob, "!document.querySelector('.player audio').paused")
    wait_until(bob, "document.querySelector('.player audio').paused", timeout=15_000)
    assert 5.5 <= bob.evaluate("document.querySelector('.player audio').currentTime") <= 6.8
    panel.get_by_role("button", name="Save clip").click()
    expect(panel.locator(".clip-status")).to_contain_text("Clip saved")
    panel.get_by_role("link", name="Open the clip").click()
    expect(bob.locator("video.audiogram")).to_be_visible(timeout=90_000)
    expect(bob.get_by_role("heading", name="Whales sing")).to_be_visible()
    bob.locator("video.audiogram").evaluate("video => video.play()")
    wait_until(bob, "document.querySelector('video.audiogram').currentTime > 0.5")
    size = bob.evaluate(
        "[document.querySelector('video.audiogram').videoWidth,"
        " document.querySelector('video.audiogram').videoHeight]"
    )
    assert size == [1080, 1080]
    bob.screenshot(path=str(SCREENSHOTS / "clip.png"))

    cyd.goto(f"{base}/following")
    shared = cyd.locator(".feed-item").first
    expect(shared.locator(".shared-by")).to_have_text("bob shared: The part about whales")
    expect(shared.get_by_role("link", name="Science weekly")).to_be_visible()
    cyd.screenshot(path=str(SCREENSHOTS / "following.png"))

    # A listener gets no Download menu unless the host allows it; the host's saves files
    # named after the Space.
    bob.goto(f"{base}/i/spaces/{space_id}")
    wait_ready(bob)
    assert bob.locator(".download-menu").count() == 0
    _, alice = signed_in(browser, base, "alice")
    watch_for_errors(alice, errors)
    alice.goto(f"{base}/i/spaces/{space_id}")
    wait_ready(alice)
    menu = alice.get_by_role("region", name="Download")
    with alice.expect_download(timeout=60_000) as saving:
        menu.get_by_role("button", name="MP3").click()
    assert saving.value.suggested_filename == "Alice Host - Science weekly (2026-11-21).mp3"
    alice.screenshot(path=str(SCREENSHOTS / "download-menu.png"))
    # The host renames and adds chapters.
    panel = alice.get_by_role("region", name="Your recording")
    panel.locator(".chapter-editor summary").click()
    panel.locator(".chapters-text").fill("0:00 Welcome\n0:03 Whales")
    panel.get_by_role("button", name="Save chapters").click()
    expect(panel.locator(".host-status")).to_have_text("Chapters saved.")
    with httpx.Client(base_url=base, timeout=20) as http:
        chapters = http.get(f"/api/v1/spaces/{space_id}/recording/chapters").json()
    assert chapters["chapters"] == [
        {"start": 0.0, "title": "Welcome"},
        {"start": 3.0, "title": "Whales"},
    ]

    # Eve, blocked by Alice, sees neither share nor follow controls, and the API agrees.
    with httpx.Client(base_url=base, headers=host, timeout=20) as http:
        http.put("/api/v1/me/blocks/eve").raise_for_status()
    _, blocked = signed_in(browser, base, "eve")
    watch_for_errors(blocked, errors)
    blocked.goto(f"{base}/i/spaces/{space_id}")
    wait_ready(blocked)
    assert blocked.locator("button.share").count() == 0
    assert blocked.locator("button.follow").count() == 0
    assert blocked.locator("button.clip-button").count() == 0
    with httpx.Client(base_url=base, headers=eve, timeout=20) as http:
        refused = http.post(f"/api/v1/spaces/{space_id}/shares", json={"followers": True})
    assert refused.status_code == 403
    wait_until(blocked, "document.querySelector('.player.ready') !== null")
    assert errors == []
