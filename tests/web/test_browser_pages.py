"""The pages in a real browser (Playwright driving Debian's Chromium, ``tests/browser.py``):
``regie serve``'s web application runs on a real port in a background thread, on the test
database; people sign in by link and with OpenID Connect (a local provider), share, delete,
and try what they may not. Screenshots at 375 px and 1280 px are kept as test artifacts, and
axe-core finds nothing serious or critical."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from urllib.parse import quote

import httpx
import oidc_provider_mock
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from storage.models import (
    AuditEntry,
    ConversationSide,
    GrowthConversation,
    LearningEntry,
    LearningKind,
    Person,
    PlanItem,
    Visibility,
)
from storage.refusals import REFUSED_READ
from tests.browser import serious_accessibility_violations
from tests.web.browser_app import checked, live_app, sign_in_by_link
from tests.web.test_pages import World, make_world
from tests.web.web_client import Clock


def learning_and_an_agenda(engine: Engine, world: World, clock: Clock) -> None:
    """Ann's learning record holds a course, and she brought an agenda to her growth
    conversation with Mia."""
    assert world.ann.id is not None
    with Session(engine) as db:
        db.add(
            LearningEntry(
                person_id=world.ann.id,
                kind=LearningKind.COURSE,
                title="Facilitation basics",
                link="https://example.com/course",
                takeaway="Silence is a tool",
            )
        )
        db.add(
            GrowthConversation(
                person_id=world.ann.id,
                manager_id=world.mia.id,
                planned_for=date(2026, 12, 4),
                set_by=ConversationSide.EMPLOYEE,
                topics="Moving towards design",
                prepared_at=clock.now,
                agenda_shared_at=clock.now,
            )
        )
        db.commit()


def test_share_in_the_browser_and_the_manager_sees_it(
    engine: Engine, new_page: Callable[..., Page], db_url: str
) -> None:
    clock = Clock()
    world: World = make_world(engine, clock)
    learning_and_an_agenda(engine, world, clock)
    database = "postgresql" if db_url.startswith("postgresql") else "sqlite"
    with live_app(engine, clock) as base:
        for width in (375, 1280):
            ann = new_page(width=width)
            sign_in_by_link(ann, base, engine, world.ann, clock)
            checked(ann, f"my-development-{width}-{database}")
        expect(ann.locator("#learning")).to_contain_text("Facilitation basics")
        expect(ann.locator("#growth")).to_contain_text("Ingebracht: Mia Manager kan het zien")

        # Share the plan item with one press of its switch.
        item = ann.locator(f"#plan_item-{world.plan_id}")
        expect(item.locator(".badge")).to_have_text("Privé")
        item.get_by_role("button", name=re.compile("Delen met je leidinggevende")).click()
        expect(ann.get_by_role("status")).to_have_text(
            "Gedeeld. Je leidinggevende kan het nu zien."
        )
        expect(ann.locator(f"#plan_item-{world.plan_id} .badge")).to_have_text(
            "Gedeeld met je leidinggevende"
        )
        expect(ann.locator("#manager-view")).to_contain_text("Learn SQL")

        for width in (375, 1280):
            mia = new_page(width=width)
            sign_in_by_link(mia, base, engine, world.mia, clock)
            mia.get_by_role("link", name="My team").click()
            expect(mia.locator(f"#report-{world.ann.id}")).to_contain_text("Learn SQL")
            expect(mia.locator("main")).not_to_contain_text("Pairing")  # private
            expect(mia.locator("main")).not_to_contain_text("Eve")  # not her report
            agenda = mia.locator(f"#growth-{world.ann.id}")
            expect(agenda).to_contain_text("Moving towards design")
            expect(agenda).to_contain_text("A few starters:")
            checked(mia, f"my-team-{width}-{database}")

        # A form sent without the page's CSRF token is refused, and nothing changes.
        refused = ann.context.request.post(
            f"{base}/app/items/plan_item/{world.plan_id}/visibility",
            form={"visibility": "private"},
        )
        assert refused.status == 403
    with Session(engine) as db:
        plan = db.get(PlanItem, world.plan_id)
        assert plan is not None and plan.visibility == Visibility.MANAGER


def test_an_employee_cannot_open_someone_elses_page(
    engine: Engine, new_page: Callable[..., Page]
) -> None:
    clock = Clock()
    world = make_world(engine, clock)
    with live_app(engine, clock) as base:
        bob = new_page()
        sign_in_by_link(bob, base, engine, world.bob, clock)
        response = bob.goto(f"{base}/app/team/{world.ann.id}")
        assert response is not None and response.status == 403
        expect(bob.locator("h1")).to_have_text("That page isn't yours to see")
        expect(bob.locator("main")).not_to_contain_text("Shadow a designer")
        assert serious_accessibility_violations(bob) == []
    with Session(engine) as db:
        entries = db.exec(select(AuditEntry).where(AuditEntry.action == REFUSED_READ)).all()
        assert [(e.actor_id, e.subject_id) for e in entries] == [(world.bob.id, world.ann.id)]


def test_delete_everything_in_the_browser_signs_out(
    engine: Engine, new_page: Callable[..., Page]
) -> None:
    clock = Clock()
    world = make_world(engine, clock)
    with live_app(engine, clock) as base:
        bob = new_page(width=375)
        sign_in_by_link(bob, base, engine, world.bob, clock)
        bob.get_by_label('To confirm, type "delete"').fill("delete")
        bob.get_by_role("button", name="Delete everything").click()
        expect(bob.locator("h1")).to_have_text("Everything is deleted")
        expect(bob.get_by_role("button", name="Sign out")).to_have_count(0)
        bob.goto(f"{base}/app/")
        assert "/app/sign-in" in bob.url
    with Session(engine) as db:
        assert db.get(Person, world.bob.id) is None


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with oidc_provider_mock.run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def test_sign_in_with_entra_id_in_the_browser(
    engine: Engine, new_page: Callable[..., Page], issuer: str
) -> None:
    clock = Clock(datetime.now(UTC))  # clock-ok: the local provider signs with the real time
    world = make_world(engine, clock)
    with Session(engine) as db:
        ann = db.get(Person, world.ann.id)
        assert ann is not None
        ann.teams_aad_id = "aad-ann"
        db.add(ann)
        db.commit()
    claims = {"oid": "aad-ann", "email": "ann@example.com", "name": "Ann"}
    assert httpx.put(f"{issuer}/users/{quote('ann-sub')}", json=claims).status_code == 204
    settings = {
        "oidc_entra_issuer": issuer,
        "oidc_entra_client_id": "regie",
        "oidc_entra_client_secret": "secret",
    }
    with live_app(engine, clock, **settings) as base:
        page = new_page()
        page.goto(f"{base}/app/")
        assert "/app/sign-in" in page.url
        checked(page, "sign-in-1280")
        page.get_by_role("link", name="Sign in with Microsoft").click()
        page.wait_for_url(re.compile(r"localhost:\d+/oauth2/authorize"))
        page.get_by_placeholder("sub").fill("ann-sub")  # who signs in at the provider
        page.get_by_role("button", name="Authorize").click()
        expect(page.locator("h1")).to_have_text("Mijn ontwikkeling")
        expect(page.locator(".lead")).to_contain_text("Ann de Vries")
