"""The learning record and growth conversations on the web (issues 18 and 19), through HTTP on
both databases: "My development" lists the learning record with the chat's own sharing switch
and the person's next growth conversation with their prep; "My team" shows a manager the
agenda a report chose to bring, read through the chat's guarded read and audited as
``agenda_read``, and nothing of a prep that was not brought."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.models import (
    ConversationSide,
    GrowthConversation,
    LearningEntry,
    LearningKind,
    Person,
    Visibility,
)
from tests.web.test_pages import audit, page, post, stored, text_of
from tests.web.web_client import Clock, add_person, sign_in, web_client, web_settings


@dataclass(frozen=True)
class World:
    mia: Person
    """Manages Ann (Dutch), Bob and Cem; reads English."""
    ann: Person
    bob: Person
    cem: Person
    """Has no growth conversation planned."""
    olaf: Person
    """Reads Dutch; manages Eve."""
    eve: Person
    course_id: int
    """Ann's course: shared, brought to her growth conversation."""
    shadowing_id: int
    """Ann's informal learning: private."""
    ann_talk_id: int
    eve_talk_id: int


def make_world(engine: Engine, clock: Clock) -> World:
    now = clock.now  # 1 December 2026
    mia = add_person(engine, email="mia@example.com", name="Mia Manager")
    olaf = add_person(engine, email="olaf@example.com", name="Olaf Other", language="nl")
    ann = add_person(
        engine, email="ann@example.com", name="Ann de Vries", language="nl", manager_id=mia.id
    )
    bob = add_person(engine, email="bob@example.com", name="Bob Baker", manager_id=mia.id)
    cem = add_person(engine, email="cem@example.com", name="Cem Cakir", manager_id=mia.id)
    eve = add_person(engine, email="eve@example.com", name="Eve Evans", manager_id=olaf.id)
    assert ann.id is not None and bob.id is not None and eve.id is not None
    with Session(engine) as db:
        course = LearningEntry(
            person_id=ann.id,
            kind=LearningKind.COURSE,
            title="Facilitation basics",
            learned_on=date(2026, 10, 1),
            link="https://example.com/certificate/42",
            takeaway="Silence is a <tool>",
            visibility=Visibility.MANAGER,
            created_at=now - timedelta(days=60),
        )
        shadowing = LearningEntry(
            person_id=ann.id,
            kind=LearningKind.INFORMAL,
            title="Shadowed Finance for a day",
            link="javascript:alert(1)",  # never stored by the chat; never a link on a page
            takeaway="Budgets are stories",
            created_at=now - timedelta(days=5),
        )
        db.add_all([course, shadowing])
        db.flush()
        assert course.id is not None and shadowing.id is not None
        prepared = now - timedelta(days=1)
        ann_talk = GrowthConversation(
            person_id=ann.id,
            manager_id=mia.id,
            planned_for=date(2026, 12, 4),
            set_by=ConversationSide.EMPLOYEE,
            topics="Moving towards design",
            needs="Time for a course",
            brought=[f"learning_entry:{course.id}", f"learning_entry:{shadowing.id}"],
            prepared_at=prepared,
            agenda_shared_at=prepared,
            created_at=now - timedelta(days=10),
        )
        bob_talk = GrowthConversation(
            person_id=bob.id,
            manager_id=mia.id,
            planned_for=date(2026, 12, 8),
            set_by=ConversationSide.MANAGER,
            topics="Bob's secret wish",
            prepared_at=prepared,
            created_at=now - timedelta(days=10),
        )
        eve_talk = GrowthConversation(
            person_id=eve.id,
            manager_id=olaf.id,
            planned_for=date(2026, 12, 2),
            set_by=ConversationSide.MANAGER,
            topics="Eve's plans",
            prepared_at=prepared,
            agenda_shared_at=prepared,
            created_at=now - timedelta(days=10),
        )
        db.add_all([ann_talk, bob_talk, eve_talk])
        db.commit()
        assert ann_talk.id is not None and eve_talk.id is not None
        return World(
            mia, ann, bob, cem, olaf, eve, course.id, shadowing.id, ann_talk.id, eve_talk.id
        )


def run(
    scenario: Callable[[TestClient[Any, Any], Clock, World], Awaitable[None]], engine: Engine
) -> None:
    async def main() -> None:
        async with web_client(engine, settings=web_settings()) as (client, clock):
            await scenario(client, clock, make_world(engine, clock))

    asyncio.run(main())


def section(markup: str, element_id: str) -> str:
    found = re.search(rf'<section[^>]* id="{element_id}".*?</section>', markup, re.DOTALL)
    assert found is not None, element_id
    return found.group(0)


def agenda_reads(engine: Engine) -> list[tuple[int | None, int | None]]:
    return [(e.actor_id, e.subject_id) for e in audit(engine) if e.action == "agenda_read"]


# -- My development ---------------------------------------------------------------------------


def test_the_learning_record_is_listed_with_its_sharing_switch(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.ann, clock)
        _, markup = await page(client)
        learning = section(markup, "learning")
        seen = text_of(learning)
        assert "Leerdossier" in seen
        # Newest first (by the date learned, else when noted), each with its kind and date.
        assert seen.index("Shadowed Finance") < seen.index("Facilitation basics")
        assert "Cursus · 1 oktober 2026" in seen and "Leren in de praktijk" in seen
        assert "Wat het me opleverde: Silence is a &lt;tool&gt;" in learning
        assert 'href="https://example.com/certificate/42"' in learning
        assert "javascript:" not in markup
        # The shared course says so; the private entry offers to share.
        assert re.search(
            rf'id="learning_entry-{w.course_id}".*?Gedeeld met je leidinggevende.*?'
            r'value="private"',
            learning,
            re.DOTALL,
        )
        action = f"/app/items/learning_entry/{w.shadowing_id}/visibility"
        assert f'action="{action}"' in learning
        assert "Gedeeld met je leidinggevende: 1 van 2 items" in text_of(markup)
        view = re.search(r'id="manager-view">(.*?)</div>', markup, re.DOTALL)
        assert view is not None and "Facilitation basics" in view.group(1)
        assert "Shadowed Finance" not in view.group(1)

        # The chat's own switch shares it: stored, and in what the manager sees.
        status, _, location = await post(client, action, {"visibility": "manager"})
        assert status == 303 and location == f"/app/?done=manager#learning_entry-{w.shadowing_id}"
        assert stored(engine, LearningEntry, w.shadowing_id).visibility == Visibility.MANAGER
        _, markup = await page(client, location)
        assert "Gedeeld. Je leidinggevende kan het nu zien." in text_of(markup)
        view = re.search(r'id="manager-view">(.*?)</div>', markup, re.DOTALL)
        assert view is not None and "Shadowed Finance" in view.group(1)
        await sign_in(client, engine, w.mia, clock)
        assert "Shadowed Finance" in text_of((await page(client, "/app/team"))[1])

        # …and makes it private again; nobody else can switch it.
        await sign_in(client, engine, w.ann, clock)
        status, _, _ = await post(client, action, {"visibility": "private"})
        assert status == 303
        assert stored(engine, LearningEntry, w.shadowing_id).visibility == Visibility.PRIVATE
        await sign_in(client, engine, w.bob, clock)
        status, _, _ = await post(client, action, {"visibility": "manager"})
        assert status == 404
        assert stored(engine, LearningEntry, w.shadowing_id).visibility == Visibility.PRIVATE
        # Bob's own record is empty, in English.
        _, markup = await page(client)
        assert "Nothing in your learning record yet." in text_of(section(markup, "learning"))

    run(scenario, engine)


def test_my_development_shows_the_next_growth_conversation_and_the_prep(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.ann, clock)
        _, markup = await page(client)
        growth = section(markup, "growth")
        seen = text_of(growth)
        assert "Je volgende groeigesprek met Mia Manager is op 4 december 2026." in seen
        assert "Ingebracht: Mia Manager kan het zien" in seen
        assert "Wat Mia Manager op de agenda ziet" in seen
        agenda = re.search(r'id="growth-agenda">(.*?)</div>', growth, re.DOTALL)
        assert agenda is not None
        # The agenda as the manager reads it: the texts, and only the brought items still
        # shared (the private one she picked is not on it).
        assert "Moving towards design" in agenda.group(1)
        assert "Time for a course" in agenda.group(1)
        assert "Facilitation basics" in agenda.group(1)
        assert "Shadowed Finance" not in agenda.group(1)

        await sign_in(client, engine, w.bob, clock)
        growth = section((await page(client))[1], "growth")
        seen = text_of(growth)
        assert "Your next growth conversation with Mia Manager is on December 8, 2026." in seen
        assert "Prepared, kept to yourself" in seen
        assert "Your prep, only for you until you bring it" in seen
        assert "Bob's secret wish" in text_of(growth)

        await sign_in(client, engine, w.cem, clock)
        seen = text_of(section((await page(client))[1], "growth"))
        assert "No growth conversation with Mia Manager planned yet." in seen
        # Looking at one's own prep reads nobody else's data.
        assert agenda_reads(engine) == []

    run(scenario, engine)


# -- My team ----------------------------------------------------------------------------------


def test_my_team_shows_the_agenda_a_report_brought_and_audits_the_read(engine: Engine) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.mia, clock)
        status, markup = await page(client, "/app/team")
        assert status == 200
        ann = text_of(section(markup, f"growth-{w.ann.id}"))
        assert "Growth conversation on December 4, 2026" in ann
        assert "Moving towards design" in ann and "Facilitation basics" in ann
        assert "Shadowed Finance" not in ann  # brought, but private
        assert "A few starters:" in ann
        # Bob prepared but kept it to himself: the date, and nothing of his prep.
        bob = text_of(section(markup, f"growth-{w.bob.id}"))
        assert "Growth conversation on December 8, 2026" in bob
        assert "Bob Baker hasn't brought an agenda yet." in bob
        assert "secret wish" not in text_of(markup) and "A few starters:" not in bob
        # Cem has no conversation; Eve is not Mia's report.
        assert f'id="growth-{w.cem.id}"' not in markup
        assert "Eve's plans" not in text_of(markup)
        assert agenda_reads(engine) == [(w.mia.id, w.ann.id)]
        [entry] = [e for e in audit(engine) if e.action == "agenda_read"]
        assert entry.detail["conversation"] == w.ann_talk_id

        # One report's page: the same read, audited again.
        status, markup = await page(client, f"/app/team/{w.ann.id}")
        assert status == 200 and "Moving towards design" in text_of(markup)
        status, markup = await page(client, f"/app/team/{w.bob.id}")
        assert "secret wish" not in text_of(markup)
        assert agenda_reads(engine) == [(w.mia.id, w.ann.id)] * 2

        # Ann sees who read her agenda, in her language.
        await sign_in(client, engine, w.ann, clock)
        _, markup = await page(client)
        assert re.search(
            r'id="seen".*Mia Manager.*de agenda die je inbracht voor je groeigesprek',
            markup,
            re.DOTALL,
        )

    run(scenario, engine)


def test_an_agenda_reads_in_the_managers_language_and_a_withdrawn_one_shows_nothing(
    engine: Engine,
) -> None:
    async def scenario(client: TestClient[Any, Any], clock: Clock, w: World) -> None:
        await sign_in(client, engine, w.olaf, clock)
        _, markup = await page(client, "/app/team")
        eve = text_of(section(markup, f"growth-{w.eve.id}"))
        assert "Groeigesprek op 2 december 2026" in eve
        assert "Eve's plans" in text_of(section(markup, f"growth-{w.eve.id}"))
        assert "Een paar openingsvragen:" in eve
        assert agenda_reads(engine) == [(w.olaf.id, w.eve.id)]

        # Eve takes her prep back (the chat's "keep it to myself"): nothing shows, nothing
        # is read.
        with Session(engine) as db:
            talk = db.get(GrowthConversation, w.eve_talk_id)
            assert talk is not None
            talk.agenda_shared_at = None
            db.add(talk)
            db.commit()
        _, markup = await page(client, "/app/team")
        eve = text_of(section(markup, f"growth-{w.eve.id}"))
        assert "Eve Evans heeft nog geen agenda ingebracht." in eve
        assert "Eve's plans" not in text_of(markup) and "openingsvragen" not in eve
        assert agenda_reads(engine) == [(w.olaf.id, w.eve.id)]

    run(scenario, engine)
