"""The browser fixtures themselves: a page renders in Debian's Chromium, a screenshot is kept,
and the accessibility check reports what axe-core calls serious."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from tests.browser import save_screenshot, serious_accessibility_violations


def test_a_page_renders_is_kept_as_a_screenshot_and_is_checked_for_accessibility(
    new_page: Callable[..., Page],
) -> None:
    page = new_page(width=375)
    page.set_content("<main><h1>Regie</h1></main>")
    assert page.inner_text("h1") == "Regie"
    assert page.viewport_size == {"width": 375, "height": 900}
    shot = save_screenshot(page, "browser-fixture-375")
    assert shot.read_bytes().startswith(b"\x89PNG")

    # No title and no lang: axe-core calls both serious, and the check says so.
    problems = serious_accessibility_violations(page)
    assert any("document-title" in line for line in problems)
    assert any("html-has-lang" in line for line in problems)

    page.set_content(
        '<!doctype html><html lang="en"><head><title>Regie</title></head>'
        "<body><main><h1>Regie</h1></main></body></html>"
    )
    assert serious_accessibility_violations(page) == []
