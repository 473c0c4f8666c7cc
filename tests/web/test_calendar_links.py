"""A confirmed workshop place offers "Add to calendar": a link to the workshop's ``.ics`` that
works as often as it is fetched until the workshop ends (calendar apps and previews fetch
twice), and that forgetting the person removes. The console writes the file instead."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.console_files import ConsoleLinks
from bot.channels.links import as_offer
from dialogs.campaigns.messages import action_intent
from dialogs.campaigns.spec import parse
from dialogs.engine.replies import PersonalLinks
from dialogs.engine.turn import Turn
from storage.models import AuditEntry, LinkPurpose, OneTimeLink, Person, Role
from storage.personal_data import forget_person
from tests.dialogs.conftest import add_person
from tests.dialogs.test_campaigns import CONTENT, LAUNCH, WEEK, launch_spec, runtime
from tests.web.web_client import Clock, web_client

SIGNED_UP = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ENDS = datetime(2026, 12, 8, 14, 30, tzinfo=UTC)  # 14:00 in Amsterdam, 90 minutes


def confirmation(engine: Engine, lang: str = "en") -> tuple[int, PersonalLinks]:
    add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR)
    kim = add_person(engine, "kim@example.com", name="Kim K", language=lang)
    campaign = launch_spec(engine, parse(WEEK), now=LAUNCH)
    assert campaign.id is not None
    press = Turn(person_id=kim, intent=action_intent(campaign.id, "lineup", "rsvp", "energy"))
    replies = runtime(engine, SIGNED_UP).handle(press)
    [links] = [r for r in replies if isinstance(r, PersonalLinks)]
    return kim, links


def test_the_calendar_link_serves_the_workshop_twice_and_ends_with_it(engine: Engine) -> None:
    kim, links = confirmation(engine)
    assert links.text == "Add it to your calendar:"
    [link] = links.links
    assert (link.purpose, link.label) == (LinkPurpose.CALENDAR, "Add to calendar")
    [(_, url)] = as_offer(links, "https://regie.example.com").links
    assert url == f"https://regie.example.com/calendar/{link.token}"

    async def scenario() -> None:
        async with web_client(engine, clock=Clock(SIGNED_UP)) as (client, clock):
            for _ in range(2):  # a link preview, then the calendar app
                response = await client.get(f"/calendar/{link.token}")
                assert response.status == 200
                assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
                assert "growth-week-energy.ics" in response.headers["Content-Disposition"]
                body = await response.text()
                assert "BEGIN:VEVENT\r\n" in body and "END:VCALENDAR\r\n" in body
                assert "DTSTART:20261208T130000Z\r\n" in body
                assert "SUMMARY:What gives you energy?\r\n" in body
            clock.now = ENDS - timedelta(seconds=1)
            assert (await client.get(f"/calendar/{link.token}")).status == 200
            clock.now = ENDS
            assert (await client.get(f"/calendar/{link.token}")).status == 410
            # Only for its purpose: not a download, not a sign-in.
            assert (await client.get(f"/download/{link.token}")).status == 410

    asyncio.run(scenario())
    with Session(engine) as db:
        assert db.exec(select(AuditEntry).where(AuditEntry.subject_id == kim)).all() == []
        [row] = db.exec(select(OneTimeLink).where(OneTimeLink.person_id == kim)).all()
        assert (row.purpose, row.expires_at) == (LinkPurpose.CALENDAR, ENDS)
        person = db.get(Person, kim)
        assert person is not None
        forget_person(db, person)
        db.commit()
        assert db.exec(select(OneTimeLink).where(OneTimeLink.person_id == kim)).all() == []


def test_the_waitlist_gets_no_calendar_link(engine: Engine) -> None:
    add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR)
    people = [add_person(engine, f"p{n}@example.com", name=f"P{n} X") for n in range(3)]
    campaign = launch_spec(engine, parse(WEEK), now=LAUNCH)  # "energy" has 2 places
    assert campaign.id is not None
    intent = action_intent(campaign.id, "lineup", "rsvp", "energy")
    found = [
        [r for r in runtime(engine, SIGNED_UP).handle(Turn(person_id=p, intent=intent))]
        for p in people
    ]
    assert [any(isinstance(r, PersonalLinks) for r in replies) for replies in found] == [
        True,
        True,
        False,
    ]


def test_the_console_writes_the_calendar_file_beside_the_exports(
    engine: Engine, tmp_path: Path
) -> None:
    _, links = confirmation(engine, lang="nl")
    console = ConsoleLinks(engine, CONTENT, "http://localhost", tmp_path, lambda: SIGNED_UP)
    shown = console.show(links, "nl")
    [path] = shown.files
    assert path == (tmp_path / "growth-week-energy.ics").resolve()
    assert b"SUMMARY:Waar krijg je energie van?\r\n" in path.read_bytes()  # CRLF kept
    assert shown.text.startswith("Klaargezet voor je agenda")
    assert shown.urls == ()
