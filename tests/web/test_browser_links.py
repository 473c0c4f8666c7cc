"""One-time links in a real browser: the page a link opens (one button, in the owner's
language, no script) is accessible and fits a phone; pressing it downloads the file or signs
in, and a link scanner that opened it first spent nothing."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import AuditEntry, LinkPurpose
from tests.web.browser_app import checked, live_app
from tests.web.test_pages import World, make_world
from tests.web.web_client import Clock, issue


def test_a_link_s_button_page_downloads_and_signs_in_after_a_scanner(
    engine: Engine, new_page: Callable[..., Page]
) -> None:
    clock = Clock()
    world: World = make_world(engine, clock)  # Ann reads Dutch
    with live_app(engine, clock) as base:
        download = issue(engine, world.ann, LinkPurpose.DOWNLOAD_JSON, clock.now)
        sign_in = issue(engine, world.ann, LinkPurpose.SIGN_IN, clock.now)
        for path in (f"/download/{download}", f"/app/sign-in/{sign_in}"):
            scanned = httpx.get(f"{base}{path}")  # a link scanner opens both first
            assert scanned.status_code == 200 and "set-cookie" not in scanned.headers

        page = new_page(width=375)
        page.goto(f"{base}/download/{download}")
        expect(page.locator("h1")).to_have_text("Al je gegevens downloaden")
        checked(page, "link-download-375")
        with page.expect_download() as pressed:
            page.get_by_role("button", name="Mijn gegevens downloaden").click()
        saved = pressed.value.path()
        assert json.loads(saved.read_text())["person"]["email"] == world.ann.email

        page.goto(f"{base}/app/sign-in/{sign_in}")
        expect(page.locator("h1")).to_have_text("Inloggen bij Regie")
        checked(page, "link-sign-in-375")
        page.get_by_role("button", name="Inloggen").click()
        expect(page.locator("h1")).to_have_text(re.compile("Mijn ontwikkeling"))

        page.goto(f"{base}/app/sign-in/{sign_in}")  # used: says so, no button
        expect(page.locator("h1")).to_have_text("Deze link werkt niet meer")
        expect(page.get_by_role("button", name="Inloggen")).to_have_count(0)
    with Session(engine) as db:
        actions = sorted(e.action for e in db.exec(select(AuditEntry)))
    assert actions == ["download", "web_sign_in"]
