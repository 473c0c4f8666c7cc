"""HR reads a pulse's results in chat (both databases, both languages): the same figures and
``<K`` suppression as ``regie report pulse``, the look audited as HR's own, nothing but the
answered count while the pulse is open, and a kind refusal for everyone else."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dialogs.campaigns.pulse_report import build, results_text
from dialogs.engine.content import load_content
from dialogs.engine.runtime import Runtime
from storage.models import AuditEntry, Campaign, Person, Role
from storage.privacy import Reader
from tests.bot.test_pulse_report import CLOSED, answer, close, setup
from tests.dialogs.conftest import Clock, add_person
from tests.dialogs.transcript import Transcript


def hr(engine: Engine, runtime: Runtime, *, language: str = "en") -> Transcript:
    with Session(engine) as db:
        person = db.exec(select(Person).where(Person.email == "hr@example.com")).one()
        person.language = language
        db.add(person)
        db.commit()
        assert person.id is not None
        return Transcript(runtime, person.id)


def answered(engine: Engine) -> int:
    """Six in Sales and one in Ops answered; one wrote something."""
    campaign_id = setup(engine)
    for n in range(6):
        answer(engine, campaign_id, f"sales{n}@example.com", room=str(1 + n % 5), topic="digital")
    answer(engine, campaign_id, "ops0@example.com", room="1", wish="MARKER-WISH")
    return campaign_id


def audits(engine: Engine) -> list[AuditEntry]:
    with Session(engine) as db:
        query = select(AuditEntry).where(AuditEntry.action == "pulse_report")
        return list(db.exec(query))


def test_hr_sees_the_closed_pulse_as_the_report_shows_it(
    engine: Engine, runtime: Runtime, clock: Clock
) -> None:
    campaign_id = answered(engine)
    close(engine, campaign_id)
    clock.now = CLOSED
    tx = hr(engine, runtime)
    tx.send("pulse results")
    tx.expect("Which pulse", "Learning pulse (closed)")
    tx.choose(str(campaign_id))
    tx.expect(
        "Results of Learning pulse",
        "Answered: 7 of 12",
        "1. Room to learn?",
        "• Everyone (7) · Average 2.4 of 5: 1: 3 · 2: 1 · 3: 1 · 4: 1 · 5: 1",
        "2. Grow in what?",
        "• Everyone (6): My craft: 0 · Digital skills: 6",
        "• Sales (6): My craft: 0 · Digital skills: 6",
        "3. Anything else?",
        "Fewer than 5 people wrote something.",
    )
    # Sales (6) with Ops (1) hidden would give Ops away: neither shows for the first question
    room = tx.text.split("1. Room to learn?")[1].split("2. ")[0]
    assert "Sales" not in room and "Ops" not in room
    tx.expect_not("MARKER")
    with Session(engine) as db:
        campaign = db.get(Campaign, campaign_id)
        assert campaign is not None
        same = build(db, campaign, min_group=5, reader=Reader.administrator("ops"), now=CLOSED)
        db.rollback()  # the comparison's own look is not kept
    assert results_text(load_content(), "en", same) in tx.text  # the CLI's figures, word for word
    [entry] = audits(engine)
    assert entry.actor_id == tx.person_id and entry.at == CLOSED
    assert entry.detail == {"campaign_id": campaign_id}


def test_in_dutch_and_from_the_campaigns_conversation(
    engine: Engine, runtime: Runtime, clock: Clock
) -> None:
    campaign_id = answered(engine)
    close(engine, campaign_id)
    clock.now = CLOSED
    tx = hr(engine, runtime, language="nl")
    tx.send("campagnes")
    tx.choose(f"c:{campaign_id}")
    tx.expect("De uitkomsten")
    tx.choose("results")
    tx.expect(
        "Uitkomsten van Leerpeiling",
        "Ingevuld: 7 van 12",
        "• Iedereen (7) · Gemiddeld 2,4 van 5",
        "Minder dan 5 mensen schreven iets.",
    )
    assert len(audits(engine)) == 1
    tx.send("peilingresultaten")
    tx.expect("(gesloten)")


def test_while_open_only_how_many_answered_and_nothing_is_read(
    engine: Engine, runtime: Runtime
) -> None:
    campaign_id = answered(engine)
    tx = hr(engine, runtime)
    tx.send("pulse results")
    tx.expect("Learning pulse (open until 27 Nov 2026)")
    tx.choose(str(campaign_id))
    tx.expect("Open until 27 Nov 2026: results appear once it closes", "Answered: 7 of 12")
    tx.expect_not("Room to learn?", "Everyone")
    assert audits(engine) == []  # no answer was looked at


def test_others_are_kindly_refused_and_hr_without_pulses_hears_so(
    engine: Engine, runtime: Runtime
) -> None:
    alone = Transcript(runtime, add_person(engine, "hr2@example.com", role=Role.HR))
    alone.send("pulse results")
    alone.expect("There are no pulses yet")
    answered(engine)
    with Session(engine) as db:
        sales = db.exec(select(Person).where(Person.email == "sales0@example.com")).one()
        assert sales.id is not None
    employee = Transcript(runtime, sales.id)
    employee.send("pulse results")
    employee.expect("Pulse results are for HR", "my pulse").expect_not("Learning pulse")
    employee.send("help")
    employee.expect("my pulse")
    assert audits(engine) == []
