"""The web app in a real browser: served on 127.0.0.1 in a thread of its own, signed in the
way a person does (open the one-time link, press its button), each page checked the same way
(no sideways scrolling, a screenshot kept, no serious accessibility problems)."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine

from bot.server import build_web_app
from bot.web.app import setup_web
from storage.models import LinkPurpose, Person
from tests.browser import save_screenshot, serious_accessibility_violations
from tests.web.web_client import Clock, issue, web_settings


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_app(engine: Engine, clock: Clock, **settings: Any) -> Iterator[str]:
    """The web app served on 127.0.0.1 in a thread of its own; its base URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    app = build_web_app(channels={}, routes={})
    setup_web(app, engine, web_settings(public_url=base, **settings), clock=clock)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    ready = threading.Event()

    def serve() -> None:
        # Its own thread and loop: Playwright's sync API keeps a loop running in this one.
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(timeout=10), "the web app did not start"
    try:
        yield base
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def sign_in_by_link(page: Page, base: str, engine: Engine, person: Person, clock: Clock) -> None:
    """Open a one-time sign-in link and press the one button its page shows (opening it alone,
    as a link scanner does, signs nobody in)."""
    token = issue(engine, person, LinkPurpose.SIGN_IN, clock.now)
    page.goto(f"{base}/app/sign-in/{token}")
    page.get_by_role("main").get_by_role("button", name=re.compile("^(Sign in|Inloggen)$")).click()
    expect(page.locator("h1")).to_have_text(re.compile("My development|Mijn ontwikkeling"))


def fits(page: Page) -> None:
    """Nothing is wider than the window (no sideways scrolling on a phone)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width  # type: ignore[index]


def checked(page: Page, name: str) -> None:
    """Kept as a screenshot, and free of serious accessibility problems."""
    fits(page)
    save_screenshot(page, name)
    assert serious_accessibility_violations(page) == []
