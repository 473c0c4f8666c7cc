"""The HR and admin pages in a real browser (Playwright driving Debian's Chromium,
``tests/browser.py``), on both databases: an HR person writes a campaign from the growth-week
template, sees a validation error appear with its path while typing and fixes it, previews
the Teams card for a Dutch recipient (drawn by the Adaptive Cards renderer), and asks for the
launch; a second HR person sees the same preview and approves; the status page updates by
itself while ``run-due`` delivers to the local fake Slack; the report shows the sign-ups. An
administrator imports a CSV with one bad row (nothing imported, the row named), then a good
one. Every page is kept as a screenshot at 1280 px, axe-core finds nothing serious or
critical, and no page has a script error or a refused resource (CSP) in its console."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import ConsoleMessage, Error, Page, Request, Response, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from bot.channels.slack.client import web_client as slack_web_client
from bot.channels.slack.outbound import SlackSender
from bot.config import Settings, get_settings
from bot.delivery import DeliveryWorker
from bot.jobs import enqueue_due
from dialogs.campaigns.messages import action_intent
from dialogs.campaigns.spec import from_stored
from dialogs.engine.content import load_content
from dialogs.engine.dialog import DialogSettings
from dialogs.engine.runtime import Runtime
from dialogs.engine.turn import Turn
from dialogs.registry import DIALOGS
from storage.db import dispose_engines
from storage.models import (
    Campaign,
    CampaignLaunch,
    LaunchState,
    Outbound,
    OutboxState,
    Person,
)
from tests.bot.conftest import slack_settings
from tests.bot.slack_fake import FakeSlack
from tests.web.browser_app import checked, live_app, sign_in_by_link
from tests.web.hr_world import make_hr_world
from tests.web.web_client import Clock

MONDAY = datetime(2026, 12, 7, 7, 30, tzinfo=UTC)
"""The growth week's first day, 08:30 in Amsterdam: written, approved and launched now."""
KICKOFF = datetime(2026, 12, 7, 8, 45, tzinfo=UTC)
"""09:45 in Amsterdam: the kick-off message is due (the sessions, two hours idle, live on)."""
LIVE = 20_000
"""How long the live parts may take on a loaded machine (ms): the check as you type waits
600 ms after the last key, the status stream looks every second."""
INTRANET = "https://intranet.example.com"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
"""A 1×1 picture."""
GOOD_CSV = (
    "email,name,manager_email,department,role\n"
    "new@example.com,New Person,mia@example.com,Sales,employee\n"
)
BAD_CSV = GOOD_CSV + "bad-address,Someone,,Sales,employee\n"


class Problems:
    """What went wrong in the pages watched: script errors, console errors (a CSP refusal is
    one) and every subresource (script, style, image, fetch, event stream) that failed or
    answered 4xx/5xx, by its address. The pages' own statuses are the test's to assert: a
    refused CSV is a 422 page by design."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.pages: list[Page] = []

    def watch(self, page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            # "Failed to load resource" names no address: on_response reports those.
            if message.type == "error" and not message.text.startswith("Failed to load"):
                self.seen.append(f"{page.url}: console: {message.text}")

        def on_error(error: Error) -> None:
            self.seen.append(f"{page.url}: pageerror: {error}")

        def on_response(response: Response) -> None:
            if response.request.resource_type != "document" and response.status >= 400:
                self.seen.append(f"{page.url}: {response.status} {response.url}")

        def on_failed(request: Request) -> None:
            # Leaving a page aborts what it still loads (its event stream): not a failure.
            if request.resource_type != "document" and request.failure != "net::ERR_ABORTED":
                self.seen.append(f"{page.url}: failed {request.url}: {request.failure}")

        page.on("console", on_console)
        page.on("pageerror", on_error)
        page.on("response", on_response)
        page.on("requestfailed", on_failed)
        # The campaign's banner lives on the intranet: a picture stands in for it.
        page.route(
            f"{INTRANET}/**", lambda route: route.fulfill(body=PNG, content_type="image/png")
        )
        self.pages.append(page)
        return page

    def close(self) -> None:
        """Close the pages while the app still runs: their status pages' event streams end."""
        for page in self.pages:
            page.close()


def name_of(db_url: str) -> str:
    return "postgresql" if db_url.startswith("postgresql") else "sqlite"


def run_due(engine: Engine, db_url: str, fake: FakeSlack, now: datetime) -> int:
    """``regie run-due --now``: what is due goes to the outbox, then the worker delivers it
    (Slack: the local fake; people without a chat platform: left for the console)."""
    get_settings.cache_clear()
    enqueue_due(Settings(_env_file=None, database_url=db_url), now)  # type: ignore[call-arg]
    sender = SlackSender(slack_web_client(slack_settings(fake)), load_content(), engine)
    worker = DeliveryWorker(engine, [sender], clock=lambda: now)
    # A thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, worker.run_until_idle()).result(timeout=60).sent


def press(engine: Engine, person: Person, intent: str, now: datetime) -> None:
    """A recipient presses a button of a campaign message (as every channel passes it on)."""
    assert person.id is not None
    runtime = Runtime(
        engine,
        dialogs=DIALOGS,
        content=load_content(),
        clock=lambda: now,
        settings=DialogSettings(campaigns_dir="campaigns"),
    )
    runtime.handle(Turn(person_id=person.id, intent=intent))


def test_a_campaign_from_template_to_report_and_a_people_import(
    engine: Engine, new_page: Callable[..., Page], db_url: str, tmp_path: Path
) -> None:
    database = name_of(db_url)
    clock = Clock(MONDAY)
    world = make_hr_world(engine, clock)
    with Session(engine) as db:  # Ann and the staff are on Slack; the rest only in the console
        for n, someone in enumerate([world.ann, *world.staff]):
            row = db.get(Person, someone.id)
            assert row is not None
            row.slack_user_id = f"U{n}"
            db.add(row)
        db.commit()
    problems = Problems()

    def shot(page: Page, name: str) -> None:
        checked(page, f"hr-{name}-1280-{database}")

    with (
        FakeSlack() as fake,
        live_app(engine, clock, campaign_approval_over=3) as base,
        closing(problems),
    ):
        # -- Priya writes the campaign ----------------------------------------------------------
        priya = problems.watch(new_page())
        sign_in_by_link(priya, base, engine, world.priya, clock)
        priya.get_by_role("link", name="Campaigns", exact=True).click()
        expect(priya.locator("h1")).to_have_text("Campaigns")
        shot(priya, "campaigns-empty")
        priya.get_by_role("link", name="Growth week").click()
        expect(priya.locator("h1")).to_have_text("Campaign editor")
        priya.wait_for_load_state()  # the live check listens from DOMContentLoaded on
        yaml_box = priya.get_by_label("The whole campaign file (YAML)")
        original = yaml_box.input_value()
        assert 'time: "09:30"' in original

        # A mistake shows up while typing, with where it is; fixing it clears it.
        yaml_box.fill(original.replace('time: "09:30"', 'time: "9h30"', 1))
        live = priya.locator("#live")
        expect(live.locator("#problems")).to_contain_text("steps[0].time", timeout=LIVE)
        expect(live.locator("#problems")).to_contain_text("9h30")
        shot(priya, "campaign-editor-problem")
        yaml_box.fill(original)
        expect(live.locator("#problems")).to_have_count(0, timeout=LIVE)
        expect(live.locator("#checked-ok")).to_be_visible()

        # The Teams card for a Dutch recipient, drawn by the Adaptive Cards renderer.
        priya.get_by_label("As (e-mail").fill("ann@example.com")
        priya.get_by_label("Language", exact=True).select_option("nl")
        priya.get_by_label("Channel").select_option("teams")
        priya.get_by_role("button", name="Preview", exact=True).click()
        preview = priya.locator("#preview")
        expect(preview.locator("h2")).to_have_text("What Ann de Vries gets (nl, Teams)")
        card = preview.locator(".teams-card.drawn .ac-adaptiveCard").first
        expect(card).to_contain_text("Goedemorgen Ann! Vandaag begint de Groeiweek")
        banner = preview.locator(f'.ac-adaptiveCard img[src^="{INTRANET}"]').first
        expect(banner).to_be_visible()
        assert banner.evaluate("image => image.complete && image.naturalWidth > 0")
        expect(preview.locator(".teams-card.not-drawn")).to_have_count(0)
        expect(preview.locator(".teams-card:not(.drawn)")).to_have_count(0)
        shot(priya, "campaign-editor-preview")

        # Over the approval limit: asking to launch leaves it waiting for a colleague.
        priya.get_by_role("button", name="Ask for approval").click()
        expect(priya.locator("#asked")).to_be_visible()
        expect(priya.locator("#waiting")).to_contain_text("Growth Week 2026")
        shot(priya, "campaigns-waiting")
        with Session(engine) as db:
            record = db.exec(select(CampaignLaunch)).one()
            assert record.state == LaunchState.PENDING and record.reasons == ["size"]
            assert db.exec(select(Campaign)).first() is None

        # -- Henk approves, having seen the same preview ---------------------------------------
        henk = problems.watch(new_page())
        sign_in_by_link(henk, base, engine, world.henk, clock)
        henk.get_by_role("link", name="Campagnes", exact=True).click()
        henk.locator("#waiting").get_by_role("link", name="Groeiweek 2026").click()
        expect(henk.locator("h1")).to_have_text("Groeiweek 2026 goedkeuren?")
        henk.get_by_label("Als (e-mailadres").fill("ann@example.com")
        henk.get_by_role("button", name="Voorbeeld bekijken").click()
        expect(henk.locator("#preview .ac-adaptiveCard").first).to_contain_text("Goedemorgen Ann!")
        shot(henk, "approval")
        henk.get_by_role("button", name="Goedkeuren en starten").click()
        expect(henk.locator("h1")).to_have_text("Groeiweek 2026")
        with Session(engine) as db:
            campaign = db.exec(select(Campaign)).one()
        expect(henk.locator("#live-sent")).to_have_text("0")

        # -- The status page follows run-due by itself ------------------------------------------
        priya.goto(f"{base}/app/hr/campaigns/{campaign.id}")
        expect(priya.locator("#live-sent")).to_have_text("0")
        expect(priya.locator("#live-later")).not_to_have_text("0")  # queued at launch
        shot(priya, "campaign-status-before")
        clock.now = KICKOFF
        sent = run_due(engine, db_url, fake, KICKOFF)
        dispose_engines()
        assert sent > 0 and len(fake.calls_to("chat.postMessage")) == sent
        with Session(engine) as db:
            stored_sent = db.exec(
                select(func.count())
                .where(col(Outbound.campaign_id) == campaign.id)
                .where(col(Outbound.state) == OutboxState.SENT)
            ).one()
        assert stored_sent == sent
        expect(priya.locator("#live-sent")).to_have_text(str(sent), timeout=LIVE)
        with Session(engine) as db:
            console = db.exec(
                select(func.count())
                .where(col(Outbound.campaign_id) == campaign.id)
                .where(col(Outbound.channel) == "console")
                .where(col(Outbound.state) == OutboxState.PENDING)
            ).one()
        assert console == 4  # Priya, Henk, Ada and Mia have no chat platform
        expect(priya.locator("#live-in_console")).to_have_text(str(console))
        expect(priya.locator("#live-line")).to_contain_text(
            f"{sent} of {sent + console} messages sent so far."
        )
        expect(henk.locator("#live-sent")).to_have_text(str(sent), timeout=LIVE)

        # Two people sign up; the owner's report shows them by name, Henk's doesn't.
        signing = (world.ann, world.staff[1])
        for person in signing:
            press(engine, person, action_intent(campaign.id or 0, "kickoff", "interested"), KICKOFF)
        spec = from_stored(campaign.spec)
        lineup = next(s.id for s in spec.steps if "energy" in s.invites_to)
        for person in signing:
            press(
                engine, person, action_intent(campaign.id or 0, lineup, "rsvp", "energy"), KICKOFF
            )
        priya.reload()
        sign_ups = priya.locator("#sign-ups")
        expect(sign_ups).to_contain_text("Ann de Vries")
        expect(sign_ups).to_contain_text(world.staff[1].name)
        columns = priya.locator("#steps thead th").count()
        rows = priya.locator("#steps tbody tr").all()
        assert rows and all(row.locator("th, td").count() == columns for row in rows)
        shot(priya, "campaign-report")
        henk.reload()
        expect(henk.locator("#sign-ups")).to_have_count(0)
        expect(henk.locator("#funnel")).to_be_visible()
        shot(henk, "campaign-report-nl")

        priya.get_by_role("link", name="Participation", exact=True).click()
        expect(priya.locator("h1")).to_have_text("Participation")
        shot(priya, "participation")

        # -- Ada imports people: a bad row first (nothing imported), then a good file -----------
        ada = problems.watch(new_page())
        sign_in_by_link(ada, base, engine, world.ada, clock)
        ada.get_by_role("link", name="People", exact=True).click()
        shot(ada, "people")
        bad = tmp_path / "people-bad.csv"
        bad.write_text(BAD_CSV, encoding="utf-8")
        ada.get_by_label("CSV file", exact=True).set_input_files(str(bad))
        ada.get_by_role("button", name="Check the file").click()
        errors = ada.locator("#row-errors")
        expect(errors).to_contain_text("Nothing imported: 1 problem to fix first.")
        expect(errors).to_contain_text("Line 3 (bad-address)")
        shot(ada, "people-import-bad-row")
        with Session(engine) as db:
            assert db.exec(select(Person).where(Person.email == "new@example.com")).first() is None
        ada.goto(f"{base}/app/admin/people")
        good = tmp_path / "people.csv"
        good.write_text(GOOD_CSV, encoding="utf-8")
        ada.get_by_label("CSV file", exact=True).set_input_files(str(good))
        ada.get_by_role("button", name="Check the file").click()
        expect(ada.locator("#changes")).to_contain_text("new@example.com")
        shot(ada, "people-import-check")
        ada.get_by_role("button", name="Import all of it").click()
        expect(ada.locator("#imported")).to_have_text("Done: 1 new and 0 updated.")
        shot(ada, "people-imported")
        with Session(engine) as db:
            new = db.exec(select(Person).where(Person.email == "new@example.com")).one()
            assert new.department == "Sales"
        ada.get_by_role("link", name="New Person").click()
        expect(ada.locator("h1")).to_contain_text("New Person")
        shot(ada, "person")
        ada.get_by_role("link", name="Health", exact=True).click()
        expect(ada.locator("h1")).to_have_text(re.compile("Health"))
        shot(ada, "health")

    assert problems.seen == [], "\n".join(problems.seen)
