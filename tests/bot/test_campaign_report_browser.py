"""The campaign report page in a real browser (headless Chromium): at a 375 px phone and a
1280 px screen a long title wraps instead of running into its figures, nothing scrolls
sideways but the step table, bars are drawn out of each workshop's places, the page fetches
nothing and has no serious accessibility problem — and it still looks like its reference
screenshot (``tests/bot/golden/reports/*.png``, compared with a tolerance; ``UPDATE_GOLDEN=1``
rewrites them — look at them before committing)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.campaign_reports import render_html
from dialogs.campaigns.report import CampaignReport
from dialogs.campaigns.spec import parse
from storage.campaign_figures import Figures, StepFigures
from storage.models import Campaign, RsvpState
from tests.bot.test_campaign_report import LONG_TITLE, SPEC
from tests.browser import save_screenshot, serious_accessibility_violations

if TYPE_CHECKING:
    from playwright.sync_api import FloatRect, Page

GOLDEN = Path(__file__).parent / "golden" / "reports"
LONG_NAME = "Groeiweek 2026: een week vol kleine experimenten, goede gesprekken en nieuwe energie"
CHANNEL_THRESHOLD = 64
"""A pixel differs when one of its channels moved by more than this (anti-aliasing moves less)."""
MAX_DIFFERING = 0.002
"""At most this share of the pixels may differ: text rendering jitter, not a moved layout."""


def report(lang: str) -> CampaignReport:
    """A report as its owner reads it (exact counts), with figures fixed by hand: 1 of 24
    places taken at a workshop with a very long title."""
    spec = parse(SPEC.replace("{en: Growth week, nl: Groeiweek}", f'"{LONG_NAME}"'))
    campaign = Campaign(
        id=1,
        slug=spec.id,
        name=LONG_NAME,
        spec={},
        spec_hash="",
        version=2,
        launched_at=datetime(2026, 12, 7, 6, tzinfo=UTC),
    )
    steps = {
        "kickoff": StepFigures(sent=118, failed=2, responded=41),
        "lineup": StepFigures(sent=97, queued=23),
    }
    figures = Figures(
        k=5,
        targeted=120,
        reached=118,
        steps=steps,
        failure_reasons=Counter({"channel_not_found": 2}),
        skip_reasons=Counter(),
        responded=41,
        experiments=9,
        rsvps={
            "career": Counter({RsvpState.GOING: 1}),
            "small": Counter({RsvpState.GOING: 5, RsvpState.WAITLIST: 3}),
            "open": Counter({RsvpState.GOING: 17}),
        },
    )
    return CampaignReport(campaign, spec, figures, finished=False, owner_view=True, lang=lang)


def overlaps(a: FloatRect, b: FloatRect) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def box(page: Page, selector: str, n: int = 0) -> FloatRect:
    found = page.locator(selector).nth(n).bounding_box()
    assert found is not None, selector
    return found


def compare_with_reference(shot: Path, name: str) -> None:
    from PIL import Image, ImageChops

    reference = GOLDEN / f"{name}.png"
    if os.environ.get("UPDATE_GOLDEN"):
        reference.write_bytes(shot.read_bytes())
    assert reference.exists(), f"no reference {reference}: run with UPDATE_GOLDEN=1, look at it"
    with Image.open(shot) as taken, Image.open(reference) as expected:
        assert taken.size == expected.size, f"{name}: {taken.size} != {expected.size}"
        difference = ImageChops.difference(taken.convert("RGB"), expected.convert("RGB"))
        moved = [c.point(lambda v: 255 if v > CHANNEL_THRESHOLD else 0) for c in difference.split()]
        changed = ImageChops.lighter(ImageChops.lighter(moved[0], moved[1]), moved[2]).histogram()[
            255
        ]
        share = changed / (taken.size[0] * taken.size[1])
    assert share <= MAX_DIFFERING, f"{name}: {share:.2%} of pixels differ from {reference}"


@pytest.mark.parametrize(("lang", "width"), [("en", 375), ("en", 1280), ("nl", 375)])
def test_long_titles_never_overlap_their_figures(
    new_page: Callable[..., Page], lang: str, width: int
) -> None:
    page = new_page(width=width, height=800)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.set_content(render_html(report(lang)))

    assert page.locator("html").get_attribute("lang") == lang
    rows = page.locator(".bar")
    assert rows.count() == 4 + 3  # the funnel, then the workshops
    for n in range(rows.count()):
        label, figures = box(page, ".bar-label", n), box(page, ".bar-figures", n)
        assert not overlaps(label, figures), f"row {n}: {label} overlaps {figures}"
        for part in (label, figures):
            assert part["x"] >= 0 and part["x"] + part["width"] <= width
    # The long title wraps onto more lines at 375 px instead of running on.
    career = page.locator(".bar", has_text=LONG_TITLE)
    title = career.locator(".bar-label").bounding_box()
    assert title is not None and (width > 400 or title["height"] > 60)
    # The bar is out of the workshop's 24 places: 1 place taken fills 1/24 of it.
    track, fill = career.locator(".track").bounding_box(), career.locator(".fill").bounding_box()
    assert track is not None and fill is not None
    assert fill["width"] / track["width"] == pytest.approx(1 / 24, abs=0.01)
    assert box(page, "h1")["width"] <= width
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= width, "the page scrolls sideways"

    assert requests == []  # self-contained: nothing fetched
    assert serious_accessibility_violations(page) == []
    compare_with_reference(
        save_screenshot(page, f"campaign_report_{lang}_{width}"), f"{lang}_{width}"
    )
