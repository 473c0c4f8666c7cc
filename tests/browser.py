"""Pages in a real browser: Playwright (sync API) driving Chromium from Debian packages.

Playwright's own browser download is not used: ``.ci/run`` installs ``chromium`` with apt and
the fixtures launch it through ``executable_path`` (``REGIE_TEST_CHROMIUM`` overrides the path).
Without a Chromium the browser tests skip and say why — except under CI, where a missing
browser is a failure, so a green CI always means the pages were looked at.

Screenshots go to ``test-artifacts/screenshots/`` (kept by CI as artifacts, ignored by git).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
SERIOUS = frozenset({"serious", "critical"})


def chromium_path() -> str | None:
    """The Chromium to drive: ``REGIE_TEST_CHROMIUM``, else Debian's ``chromium`` on PATH."""
    configured = os.environ.get("REGIE_TEST_CHROMIUM")
    if configured:
        return configured
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A Chromium for one test module. Not for the whole session: Playwright's sync API keeps
    its event loop marked as running in this thread until it stops, and the asyncio tests that
    a worker runs after a browser module need the thread's loop free."""
    path = chromium_path()
    if path is None:
        reason = "no Chromium found (apt-get install chromium, or set REGIE_TEST_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path,
            # Root in a container has no user namespaces for Chromium's sandbox.
            args=["--no-sandbox", "--disable-dev-shm-usage"],
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """``new_page(width=1280, height=900)``: a page in a fresh context (own cookies) at that
    viewport; every context is closed after the test."""
    contexts = []

    def make(width: int = 1280, height: int = 900) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def save_screenshot(page: Page, name: str) -> Path:
    """A full-page PNG of what the page shows now, kept as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def serious_accessibility_violations(page: Page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each (``[]`` = none)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{violation['impact']}: {violation['id']} ({violation['help']}) at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation.get("impact") in SERIOUS
    ]
