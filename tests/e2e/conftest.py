"""Browser tests: the application served on a loopback port, driven by Playwright with the system Chromium.

Browser tests run on SQLite only (the service and web tests cover both databases). The server is werkzeug's
threaded development server in a background thread, on the same per-test database the ``app`` fixture
prepares; the browser is launched once per session from ``/usr/bin/chromium`` (never downloaded).
Screenshots of the main pages go to ``test-output/screenshots/`` for people to look at.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, expect, sync_playwright
from werkzeug.serving import BaseWSGIServer, make_server

from tests.support.factories import PASSWORD, email_of

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture
def backend() -> str:
    """Browser tests run on SQLite only."""
    return "sqlite"


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The application served on a free loopback port; yields its base URL."""
    app.config.update(SERVER_NAME=None, MAX_DOCUMENT_BYTES=2 * 1024 * 1024)
    server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """The system Chromium, headless, launched once per session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package 'chromium' (make system-deps)")
    instance = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield instance
    instance.close()


class People:
    """One browser context (its own cookies) per person taking part in a test."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[BrowserContext] = []

    def page(self) -> Page:
        """A new, logged-out page in its own context (Spanish, Mexico City time)."""
        context = self.browser.new_context(
            base_url=self.base_url,
            locale="es-MX",
            timezone_id="America/Mexico_City",
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        context.set_default_timeout(15_000)
        self.contexts.append(context)
        return context.new_page()

    def logged_in(self, user_id: int) -> Page:
        """A page logged in as the factory user ``user_id`` through the login form."""
        page = self.page()
        page.goto("/login")
        page.fill("#email", email_of(user_id))
        page.fill("#password", PASSWORD)
        page.click("main input[type=submit]")
        page.wait_for_url(re.compile(r"/inicio$"))
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(browser: Browser, live_server: str) -> Iterator[People]:
    """Browser contexts for the people of a test, closed afterwards."""
    crowd = People(browser, live_server)
    yield crowd
    crowd.close()


def shot(page: Page, name: str) -> None:
    """Keep a full-page screenshot of ``page`` as ``test-output/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def press(control: Locator) -> None:
    """Press a control that sends a form (or follows a link) and wait for the page the server answers with.

    ``click()`` returns once the click is dispatched: the browser may still show the old page, or none, when the
    test reads the next one, and ``wait_for_load_state()`` then returns at once because the old page is loaded.
    Waiting for the navigation the click starts (to a redirect's target, or to a page refusing the form) closes
    that race.
    """
    with control.page.expect_navigation():
        control.click()


def flash(page: Page) -> str:
    """The page's flash messages, joined; waits until the page shows at least one."""
    messages = page.locator("p.flash")
    expect(messages.first).to_be_visible()
    return " ".join(messages.all_inner_texts())
