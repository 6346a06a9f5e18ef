"""Waiting on a page in a way its Content-Security-Policy allows.

Playwright's ``wait_for_function`` compiles its predicate inside the page, which a policy
without ``'unsafe-eval'`` (Airspace's) forbids; ``evaluate`` runs from outside the page's
policy. The pages are tested with the policy they ship with, so waits poll ``evaluate``.
"""

from __future__ import annotations

import time

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page

DEFAULT_TIMEOUT_MS = 30_000


def wait_until(page: Page, expression: str, timeout: float = DEFAULT_TIMEOUT_MS) -> None:
    """Poll ``expression`` (JavaScript, evaluated in the page) until it is truthy;
    ``timeout`` in milliseconds, as Playwright's own."""
    deadline = time.monotonic() + timeout / 1000
    while not _holds(page, expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout / 1000:.0f} s: {expression}")
        time.sleep(0.05)


def _holds(page: Page, expression: str) -> bool:
    try:
        return bool(page.evaluate(expression))
    except PlaywrightError as error:
        if "context was destroyed" in error.message:  # the page is navigating: ask again
            return False
        raise
