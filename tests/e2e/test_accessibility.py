"""Every page, checked by axe-core in Chromium: in the dark and the light theme, on a
phone (375 px) and a desktop, with no serious or critical violation. Each page is also
photographed in both themes for docs/screenshots/pages/. The replay player is then used
by keyboard alone, and remembers where a listener was."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, StorageState, expect
from sqlalchemy import select

from airspace.accounts.models import Role, User
from airspace.captions.models import TranscriptSegment
from airspace.captions.search import replace_segments
from airspace.clock import SettableClock
from airspace.recordings.models import Recording
from tests.conftest import LiveServer
from tests.e2e.pages import wait_until
from tests.e2e.test_browser_replay import SCREENSHOTS, browser
from tests.sharing.recorded import recorded_space

__all__ = ["browser"]
PAGES_SHOTS = SCREENSHOTS / "pages"
WIDTHS = (375, 1100)
THEMES: tuple[Literal["dark", "light"], ...] = ("dark", "light")
BLOCKING = ("serious", "critical")
PASSWORD = "pw-12345678"


@dataclass(frozen=True)
class Visit:
    name: str
    path: str
    who: str | None  # signed in as, or a visitor
    ready: str | None = None  # a selector present once the page has drawn itself


@pytest.fixture
def site(live_server: LiveServer, clock: SettableClock) -> list[Visit]:
    """An instance with something on every page: a replay with a transcript, a clip, a
    scheduled and a live Space; hana hosts them all and moderates, lou listens."""
    base, services = live_server.base, live_server.services
    hana = live_server.register("hana")
    live_server.register("lou")
    live_server.register("eve")
    with httpx.Client(base_url=base, headers=hana, timeout=20) as http:
        http.patch("/api/v1/me", json={"display_name": "Hana Moss"}).raise_for_status()
        http.put("/api/v1/me/blocks/eve").raise_for_status()
        replay, _ = recorded_space(base, services, clock, hana, 12, "Tide tables")
        starts = (clock.now() + timedelta(days=2)).isoformat()
        scheduled = http.post(
            "/api/v1/spaces",
            json={"title": "Spring tides", "scheduled_start": starts, "topics": ["Science"]},
        ).json()["id"]
        live = http.post("/api/v1/spaces", json={"title": "Morning chat", "record": True})
        live_id = live.json()["id"]
        http.post(f"/api/v1/spaces/{live_id}/start").raise_for_status()
        clip = http.post(
            f"/api/v1/spaces/{replay}/clips", json={"start": 1, "end": 7, "title": "High water"}
        ).json()["id"]
    with services.sessions() as session:
        session.scalars(select(User).where(User.username == "hana")).one().role = Role.MODERATOR
        recording = session.scalars(select(Recording).where(Recording.space_id == replay)).one()
        said = [
            ("Hana Moss", 0.5, 5.0, "Welcome to the tide tables."),
            ("Hana Moss", 6.0, 11.0, "High water comes twice a day."),
        ]
        replace_segments(
            session,
            recording.id,
            [
                TranscriptSegment(
                    recording_id=recording.id,
                    speaker_name=n,
                    start_seconds=a,
                    end_seconds=b,
                    body=t,
                )
                for n, a, b, t in said
            ],
        )
        session.commit()
    return [
        Visit("home", "/", None),
        Visit("signup", "/signup", None),
        Visit("login", "/login", None),
        Visit("create", "/spaces/new", "hana"),
        Visit("scheduled", f"/i/spaces/{scheduled}", None, ".countdown"),
        Visit("live-host", f"/i/spaces/{live_id}", "hana", ".room .member"),
        Visit("live-listener", f"/i/spaces/{live_id}", "lou", ".room .member"),
        Visit("replay", f"/i/spaces/{replay}", None, ".player.ready"),
        Visit("replay-host", f"/i/spaces/{replay}", "hana", ".player.ready"),
        Visit("embed", f"/i/spaces/{replay}/embed", None, ".player.ready"),
        Visit("clip", f"/i/clips/{clip}", None),
        Visit("profile", "/@hana", None),
        Visit("search", "/search?q=tide", None),
        Visit("settings", "/settings", "hana"),
        Visit("notifications", "/notifications", "lou"),
        Visit("following", "/following", "lou"),
        Visit("moderation", "/moderation", "hana"),
        Visit("download", "/download", None),
        Visit("not-found", "/no/such/page", None),
    ]


def signed_in_state(browser: Browser, base: str, username: str) -> StorageState:
    """The cookies of a browser that logged in as ``username`` through the form."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    state = context.storage_state()
    context.close()
    return state


def blocking_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_page_passes_axe_in_both_themes_on_phone_and_desktop(
    live_server: LiveServer, browser: Browser, site: list[Visit]
) -> None:
    base = live_server.base
    PAGES_SHOTS.mkdir(parents=True, exist_ok=True)
    # The checker itself finds what it should: an image with no text alternative.
    control = browser.new_page()
    control.set_content('<!doctype html><html lang="en"><title>x</title><img src="x.png">')
    assert any("image-alt" in v for v in blocking_violations(control))
    control.close()
    states = {name: signed_in_state(browser, base, name) for name in ("hana", "lou")}
    found: list[str] = []
    for theme in THEMES:
        for width in WIDTHS:
            pages: dict[str | None, Page] = {}
            for who in (None, "hana", "lou"):
                context = browser.new_context(
                    viewport={"width": width, "height": 900},
                    color_scheme=theme,
                    storage_state=states[who] if who else None,
                )
                pages[who] = context.new_page()
            for visit in site:
                page = pages[visit.who]
                page.goto(f"{base}{visit.path}")
                if visit.ready:
                    page.wait_for_selector(visit.ready, timeout=30_000)
                where = f"{visit.name} ({theme}, {width} px)"
                found += [f"{where} {v}" for v in blocking_violations(page)]
                wide = page.evaluate("document.documentElement.scrollWidth")
                if wide > width:
                    found.append(f"{where} scrolls sideways: {wide} px")
                if width == max(WIDTHS):
                    page.screenshot(path=str(PAGES_SHOTS / f"{visit.name}-{theme}.png"))
            for page in pages.values():
                page.context.close()
    assert found == []


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until ``selector`` has the focus, which must show (a focus ring)."""
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            break
    else:
        raise AssertionError(f"Tab never reached {selector}")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_room_and_the_replay_work_by_keyboard_and_the_replay_remembers(
    live_server: LiveServer, browser: Browser, site: list[Visit]
) -> None:
    base = live_server.base
    live = next(v for v in site if v.name == "live-listener")
    lou = signed_in_state(browser, base, "lou")
    listener = browser.new_context(storage_state=lou).new_page()
    listener.goto(f"{base}{live.path}")
    listener.wait_for_selector(".room .member")
    tab_to(listener, ".room .ask")
    listener.keyboard.press("Enter")
    expect(listener.get_by_role("button", name="Asked to speak")).to_be_disabled()
    listener.context.close()

    # An account the host blocked is told why it cannot ask to speak.
    eve = signed_in_state(browser, base, "eve")
    blocked = browser.new_context(storage_state=eve).new_page()
    blocked.goto(f"{base}{live.path}")
    blocked.wait_for_selector(".room .member")
    expect(blocked.locator(".blocked-note")).to_have_text(
        "The host has blocked your account: you can listen, but not ask to speak."
    )
    expect(blocked.get_by_role("button", name="Ask to speak")).to_be_hidden()
    blocked.context.close()

    replay = next(v for v in site if v.name == "replay")
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    # The home card gives the replay's length as people write it; the search box in the
    # top bar finds words spoken in it, linked to their moment.
    page.goto(f"{base}/")
    expect(page.locator(".card", has_text="Tide tables")).to_contain_text("0:12")
    page.get_by_role("searchbox", name="Search Spaces").fill("twice a day")
    page.keyboard.press("Enter")
    moment = page.get_by_role("link", name="0:06 Hana Moss: High water comes twice a day.")
    expect(moment).to_have_attribute("href", f"{replay.path}?t=6.0")

    page.goto(f"{base}{replay.path}")
    page.wait_for_selector(".player.ready")
    # Tab reaches Play, with a visible focus ring; Enter plays, Space pauses.
    tab_to(page, ".player .play")
    page.keyboard.press("Enter")
    wait_until(page, "!document.querySelector('.player audio').paused")
    page.keyboard.press("Space")
    wait_until(page, "document.querySelector('.player audio').paused")

    # Lock screen and headset controls know what is playing.
    assert page.evaluate("navigator.mediaSession.metadata.title") == "Tide tables"
    assert page.evaluate("navigator.mediaSession.metadata.artist") == "Hana Moss"

    # Speed and position are remembered for this replay.
    page.get_by_label("Playback speed").select_option("1.5")
    page.evaluate("document.querySelector('.player audio').currentTime = 6")
    wait_until(page, "document.querySelector('.player audio').seeking === false")
    page.reload()
    page.wait_for_selector(".player.ready")
    assert page.evaluate("document.querySelector('.player audio').currentTime") == (
        pytest.approx(6, abs=0.5)
    )
    expect(page.get_by_label("Playback speed")).to_have_value("1.5")
    expect(page.locator(".player-status")).to_have_text("Going on from 0:06, where you left off.")
    assert page.evaluate("document.querySelector('.player audio').playbackRate") == 1.5
    page.close()
