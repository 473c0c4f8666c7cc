"""Growth conversations: either side sets the date; the employee prepares in private and brings
an agenda only when they choose to; the manager's agenda shows only what was brought (guarded,
audited); afterwards each side notes one agreement, the employee's own straight into their plan
and the manager's only when the employee adds it. Nudges before and after; export and forget."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.engine.replies import Offer, reply_from_dict
from dialogs.engine.runtime import Runtime
from dialogs.nudges.retention import delete_announced, due_notices
from dialogs.nudges.rules import due_nudges
from storage.models import (
    AuditEntry,
    Experiment,
    GrowthConversation,
    Outbound,
    OutboxState,
    Person,
    PlanItem,
    Visibility,
)
from storage.outbox import ABOUT, enqueue_many
from storage.personal_data import export_person, forget_person
from tests.dialogs.conftest import NOW, Clock, add_person
from tests.dialogs.transcript import Transcript

WORD = {"en": "growth conversation", "nl": "groeigesprek"}
TEAM_WORD = {"en": "team growth", "nl": "groeigesprek met mijn team"}
DAY = date(2026, 12, 2)  # a Wednesday, nine days after NOW


def pair(engine: Engine, runtime: Runtime, lang: str) -> tuple[Transcript, Transcript]:
    """Bea manages Sam; Sam shared one experiment and kept another private."""
    bea = add_person(engine, "bea@example.com", language=lang, name="Bea Baas", role="manager")
    sam = add_person(engine, "sam@example.com", language=lang, name="Sam Smit", manager_id=bea)
    with Session(engine) as db:
        db.add(
            Experiment(
                person_id=sam, title="SHARED-EXPERIMENT", visibility="manager", created_at=NOW
            )
        )
        db.add(Experiment(person_id=sam, title="PRIVATE-EXPERIMENT", created_at=NOW))
        db.commit()
    return Transcript(runtime, sam), Transcript(runtime, bea)


def talks(engine: Engine) -> list[GrowthConversation]:
    with Session(engine) as db:
        return list(db.exec(select(GrowthConversation).order_by(col(GrowthConversation.id))))


def agenda_reads(engine: Engine) -> list[AuditEntry]:
    with Session(engine) as db:
        return [e for e in db.exec(select(AuditEntry).where(AuditEntry.action == "agenda_read"))]


def prepare(tx: Transcript, *, bring: bool) -> None:
    tx.expect(tx.t("growth.prep_intro"), tx.t("growth.ask.topics", other="Bea"))
    tx.send("TOPIC-moving towards data work")
    tx.expect(tx.t("growth.ask.went_well"))
    tx.send("WELL-the new intake flow")
    tx.expect(tx.t("growth.ask.needs", other="Bea"))
    tx.send("NEED-a course budget")
    tx.expect(tx.t("growth.ask_bring"), "SHARED-EXPERIMENT")
    tx.expect_not("PRIVATE-EXPERIMENT")  # only what is already shared can be brought
    experiment = next(o.value for o in tx.prompt.options() if "SHARED" in o.label)
    tx.choose(experiment)  # the only shared item: nothing more to offer, so the preview
    tx.expect(tx.t("growth.preview", other="Bea"), "TOPIC-moving", "SHARED-EXPERIMENT")
    tx.choose("bring" if bring else "keep")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_employee_sets_a_date_prepares_and_brings_the_agenda(
    engine: Engine, runtime: Runtime, lang: str
) -> None:
    sam, bea = pair(engine, runtime, lang)
    sam.send(WORD[lang])
    sam.expect(sam.t("growth.intro", other="Bea"), sam.t("growth.ask_date", other="Bea"))
    sam.send("2026-11-01")
    sam.expect(sam.t("growth.date_in_past"))
    sam.send(DAY.isoformat())
    when = sam.content.date(lang, DAY)
    sam.expect(sam.t("growth.planned", other="Bea", date=when))
    sam.choose("now")
    prepare(sam, bring=True)
    sam.expect(sam.t("growth.brought", other="Bea"))
    [talk] = talks(engine)
    assert (talk.planned_for, talk.set_by, talk.manager_id) == (DAY, "employee", bea.person_id)
    assert talk.topics.startswith("TOPIC") and talk.agenda_shared_at is not None
    assert len(talk.brought) == 1

    bea.send(TEAM_WORD[lang])
    bea.expect(bea.t("growth.team_who"), "Sam Smit")
    bea.choose(str(sam.person_id))
    bea.expect(
        bea.t("growth.team_next", name="Sam", date=when),
        "TOPIC-moving",
        "WELL-the new intake flow",
        "NEED-a course budget",
        "SHARED-EXPERIMENT",
        bea.t("growth.starters"),
    )
    bea.expect_not("PRIVATE-EXPERIMENT")
    [read] = agenda_reads(engine)
    assert (read.actor_id, read.subject_id) == (bea.person_id, sam.person_id)
    sam.send("privacy")
    sam.choose("seen")
    sam.expect("Bea", sam.t("privacy.seen_what.agenda"))

    # An item made private since drops out of the agenda.
    with Session(engine) as db:
        shared = db.exec(select(Experiment).where(Experiment.title == "SHARED-EXPERIMENT")).one()
        shared.visibility = Visibility.PRIVATE
        db.add(shared)
        db.commit()
    bea.send(TEAM_WORD[lang])
    bea.choose(str(sam.person_id))
    bea.expect("TOPIC-moving").expect_not("SHARED-EXPERIMENT")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_prep_kept_to_oneself_shows_the_manager_nothing(
    engine: Engine, runtime: Runtime, lang: str
) -> None:
    sam, bea = pair(engine, runtime, lang)
    sam.send(WORD[lang])
    sam.send(DAY.isoformat())
    sam.choose("later")
    sam.expect(sam.t("growth.prep_later", count=3))
    sam.send(WORD[lang])
    sam.expect(sam.t("growth.prep_state.not_prepared"))
    sam.choose("prepare")
    prepare(sam, bring=False)
    sam.expect(sam.t("growth.kept", other="Bea"))
    bea.send(TEAM_WORD[lang])
    bea.choose(str(sam.person_id))
    bea.expect(bea.t("growth.team_no_agenda", name="Sam"), bea.t("growth.starters"))
    bea.expect_not("TOPIC", "WELL-", "NEED-", "EXPERIMENT")
    assert agenda_reads(engine) == []  # nothing was read, nothing audited
    [talk] = talks(engine)
    assert talk.prepared_at is not None and talk.agenda_shared_at is None


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_no_date_yet_is_fine_and_changes_nothing(
    engine: Engine, runtime: Runtime, lang: str
) -> None:
    sam, _ = pair(engine, runtime, lang)
    sam.send(WORD[lang])
    sam.send(sam.t("common.not_sure"))
    sam.expect(sam.t("growth.later"))
    assert talks(engine) == []


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_moving_and_cancelling(engine: Engine, runtime: Runtime, lang: str) -> None:
    sam, _ = pair(engine, runtime, lang)
    sam.send(WORD[lang])
    sam.send(DAY.isoformat())
    sam.choose("later")
    sam.send(WORD[lang])
    sam.choose("move")
    sam.send("2026-12-09")
    sam.expect(sam.t("growth.moved", date=sam.content.date(lang, date(2026, 12, 9))))
    sam.send(WORD[lang])
    sam.choose("cancel")
    sam.send(sam.t("common.no"))
    sam.expect(sam.t("growth.not_cancelled"))
    sam.send(WORD[lang])
    sam.choose("cancel")
    sam.send(sam.t("common.yes"))
    sam.expect(sam.t("growth.cancelled"))
    [talk] = talks(engine)
    assert (talk.planned_for, talk.status) == (date(2026, 12, 9), "cancelled")


def plans(engine: Engine, person_id: int) -> list[PlanItem]:
    with Session(engine) as db:
        return list(db.exec(select(PlanItem).where(PlanItem.person_id == person_id)))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_after_the_talk_agreements_become_the_employees_plan_items(
    engine: Engine, runtime: Runtime, clock: Clock, lang: str
) -> None:
    sam, bea = pair(engine, runtime, lang)
    bea.send("my team" if lang == "en" else "mijn team")
    bea.expect(bea.t("growth.ask_team_offer"))
    bea.choose("plan")
    bea.choose(str(sam.person_id))
    bea.expect(bea.t("growth.team_ask_date", name="Sam"))
    bea.send(DAY.isoformat())
    when = bea.content.date(lang, DAY)
    bea.expect(bea.t("growth.team_planned", name="Sam", date=when, count=3))
    [talk] = talks(engine)
    assert talk.set_by == "manager"

    clock.now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # the day after
    bea.send(TEAM_WORD[lang])
    bea.choose(str(sam.person_id))
    bea.expect(bea.t("growth.team_ask_note", name="Sam", date=when))
    bea.send("MANAGER-NOTE: Sam joins the data guild")
    bea.expect(bea.t("growth.team_noted", name="Sam"))
    assert plans(engine, sam.person_id) == []  # not in Sam's plan without Sam's say

    sam.send(WORD[lang])
    sam.expect(
        sam.t(
            "growth.note_from",
            other="Bea",
            date=when,
            text="MANAGER-NOTE: Sam joins the data guild",
        ),
        sam.t("growth.ask_note"),
    )
    sam.choose("add")
    sam.expect(sam.t("growth.in_plan", title="MANAGER-NOTE: Sam joins the data guild"))
    sam.expect(sam.t("sharing.offer", manager="Bea"))
    sam.choose("private")
    # Then their own agreement, and the next date.
    sam.send(WORD[lang])
    sam.expect(sam.t("growth.ask_agreement", other="Bea", date=when))
    sam.send("OWN-AGREEMENT: a course budget request by January")
    sam.expect(sam.t("growth.in_plan", title="OWN-AGREEMENT: a course budget request by January"))
    sam.choose("private")
    sam.expect(sam.t("growth.ask_date", other="Bea"))
    sam.send(sam.t("common.not_sure"))
    sam.expect(sam.t("growth.later"))
    items = plans(engine, sam.person_id)
    assert sorted(i.title for i in items) == [
        "MANAGER-NOTE: Sam joins the data guild",
        "OWN-AGREEMENT: a course budget request by January",
    ]
    assert all(i.visibility == Visibility.PRIVATE and i.kind == "personal" for i in items)
    [talk] = talks(engine)
    assert talk.manager_note_added is True and talk.employee_agreement.startswith("OWN")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_declining_the_managers_note_and_skipping_ones_own(
    engine: Engine, runtime: Runtime, clock: Clock, lang: str
) -> None:
    sam, _ = pair(engine, runtime, lang)
    with Session(engine) as db:
        db.add(
            GrowthConversation(
                person_id=sam.person_id,
                manager_id=db.exec(select(Person.id).where(Person.name == "Bea Baas")).one(),
                planned_for=date(2026, 11, 20),
                set_by="manager",
                manager_note="NOTE-nobody asked for",
            )
        )
        db.commit()
    sam.send(WORD[lang])
    sam.choose("no")
    sam.expect(sam.t("growth.note_declined", other="Bea"))
    sam.expect(
        sam.t("growth.ask_agreement", other="Bea", date=sam.content.date(lang, date(2026, 11, 20)))
    )
    sam.send(sam.t("common.skip"))
    sam.expect(sam.t("growth.no_agreement"))
    assert plans(engine, sam.person_id) == []
    [talk] = talks(engine)
    assert (talk.manager_note_added, talk.employee_agreement) == (False, "")


def test_someone_without_a_manager_is_told_kindly(
    engine: Engine, chat: Callable[..., Transcript]
) -> None:
    tx = chat("nl")
    tx.send("groeigesprek")
    tx.expect(tx.t("growth.no_manager"))
    assert talks(engine) == []


def test_a_manager_cannot_reach_someone_elses_report(engine: Engine, runtime: Runtime) -> None:
    sam, bea = pair(engine, runtime, "en")
    other = add_person(engine, "otto@example.com", name="Otto Other", role="manager")
    with Session(engine) as db:
        db.add(
            GrowthConversation(
                person_id=sam.person_id,
                manager_id=bea.person_id,
                planned_for=DAY,
                set_by="employee",
                topics="TOPIC-secret",
                agenda_shared_at=NOW,
            )
        )
        db.commit()
    otto = Transcript(runtime, other)
    otto.send("team growth")
    otto.expect(otto.t("growth.no_reports")).expect_not("Sam", "TOPIC")
    assert agenda_reads(engine) == []


# -- nudges ----------------------------------------------------------------------------------


def nudges_at(engine: Engine, at: datetime) -> list:
    with Session(engine) as db:
        return due_nudges(db, load_content(), now=at, policy=NudgePolicy())


def test_nudges_before_and_after_each_once(engine: Engine, runtime: Runtime) -> None:
    sam, bea = pair(engine, runtime, "nl")
    with Session(engine) as db:
        db.add(
            GrowthConversation(
                person_id=sam.person_id,
                manager_id=bea.person_id,
                planned_for=DAY,
                set_by="manager",
                created_at=NOW,
            )
        )
        db.commit()
    slot = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # 09:30 in Amsterdam, the day it was set
    found = {(n.person_id, n.kind) for n in nudges_at(engine, slot)}
    assert (sam.person_id, "conversation_planned") in found
    assert not any(kind.startswith("conversation_") for pid, kind in found if pid == bea.person_id)

    prep_day = datetime(2026, 11, 30, 8, 30, tzinfo=UTC)  # Monday, two days before
    prep = [n for n in nudges_at(engine, prep_day) if n.kind == "conversation_prep"]
    assert [n.person_id for n in prep] == [sam.person_id]
    offer = reply_from_dict(prep[0].payload[0])
    assert isinstance(offer, Offer) and "Bea" in offer.text
    assert offer.actions[0][0] == "growth"
    assert prep[0].payload[0][ABOUT] == [bea.person_id]
    with Session(engine) as db:
        enqueue_many(db, prep)
        db.commit()
    assert not [n for n in nudges_at(engine, prep_day) if n.kind == "conversation_prep"]

    eve = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    agenda = [n for n in nudges_at(engine, eve) if n.kind == "conversation_agenda"]
    assert [n.person_id for n in agenda] == [bea.person_id]
    assert reply_from_dict(agenda[0].payload[0]).actions[0][0] == "team_growth"
    assert "Sam" in agenda[0].payload[0]["text"] and "Sam" not in agenda[0].payload[0]["also"]

    after = {
        (n.person_id, n.kind) for n in nudges_at(engine, datetime(2026, 12, 3, 8, 30, tzinfo=UTC))
    }
    assert {
        (sam.person_id, "conversation_after"),
        (bea.person_id, "conversation_after_team"),
    } <= after


def test_forgetting_the_manager_removes_their_name_from_queued_nudges(
    engine: Engine, runtime: Runtime
) -> None:
    sam, bea = pair(engine, runtime, "en")
    with Session(engine) as db:
        db.add(
            GrowthConversation(
                person_id=sam.person_id,
                manager_id=bea.person_id,
                planned_for=DAY,
                set_by="manager",
                manager_note="NOTE-from Bea",
                created_at=NOW,
            )
        )
        db.commit()
    with Session(engine) as db:
        enqueue_many(db, nudges_at(engine, datetime(2026, 11, 23, 8, 30, tzinfo=UTC)))
        db.commit()
        forget_person(db, db.get(Person, bea.person_id))
        db.commit()
    with Session(engine) as db:
        rows = db.exec(select(Outbound).where(Outbound.person_id == sam.person_id)).all()
        [talk] = db.exec(select(GrowthConversation)).all()
    assert {row.kind for row in rows} == {"conversation_planned", "conversation_note"}
    assert "Bea" not in str([row.payload for row in rows])  # the part naming her is gone
    assert (talk.manager_id, talk.manager_note) == (None, None)


def test_export_and_forget_cover_conversations(engine: Engine, runtime: Runtime) -> None:
    sam, bea = pair(engine, runtime, "en")
    with Session(engine) as db:
        db.add(
            GrowthConversation(
                person_id=sam.person_id,
                manager_id=bea.person_id,
                planned_for=DAY,
                set_by="employee",
                topics="TOPIC-mine",
                manager_note="NOTE-hers",
            )
        )
        db.commit()
    with Session(engine) as db:
        mine = export_person(db, db.get(Person, sam.person_id), now=NOW)
        hers = export_person(db, db.get(Person, bea.person_id), now=NOW)
    assert mine["growth_conversation"][0]["topics"] == "TOPIC-mine"
    assert hers["growth_conversation"] == []
    assert hers["growth_conversation_as_manager"][0]["manager_note"] == "NOTE-hers"
    assert "TOPIC-mine" not in str(hers)  # Sam's prep is not Bea's data
    with Session(engine) as db:
        forget_person(db, db.get(Person, sam.person_id))
        db.commit()
    assert talks(engine) == []


# -- moving and cancelling: the other side is told --------------------------------------------


def outbox(engine: Engine, person_id: int, kind: str | None = None) -> list[Outbound]:
    with Session(engine) as db:
        query = select(Outbound).where(Outbound.person_id == person_id)
        if kind is not None:
            query = query.where(Outbound.kind == kind)
        return list(db.exec(query.order_by(col(Outbound.id))))


def sent(engine: Engine, messages: list) -> None:
    """Written to the outbox and delivered."""
    with Session(engine) as db:
        enqueue_many(db, messages)
        for row in db.exec(select(Outbound).where(Outbound.state == OutboxState.PENDING)):
            row.state = OutboxState.SENT
            db.add(row)
        db.commit()


def team_open(bea: Transcript, sam: Transcript, lang: str) -> None:
    bea.send(TEAM_WORD[lang])
    bea.choose(str(sam.person_id))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_moved_or_cancelled_date_is_told_to_the_other_side(
    engine: Engine, runtime: Runtime, clock: Clock, lang: str
) -> None:
    sam, bea = pair(engine, runtime, lang)
    team_open(bea, sam, lang)
    bea.send(DAY.isoformat())  # set by Bea; Sam has not heard of it yet
    team_open(bea, sam, lang)
    bea.choose("move")
    bea.send("2026-12-03")
    thursday = date(2026, 12, 3)
    bea.expect(bea.t("growth.moved", date=bea.content.date(lang, thursday)))
    assert outbox(engine, sam.person_id) == []  # the announcement still to come has the new date
    [planned] = [n for n in nudges_at(engine, NOW) if n.kind == "conversation_planned"]
    assert sam.content.date(lang, thursday) in planned.payload[0]["text"]
    sent(engine, [planned])

    # Sam moves it: Bea set it, so Bea is told, in her language, about Sam.
    sam.send(WORD[lang])
    sam.choose("move")
    tuesday = date(2026, 12, 8)
    sam.send(tuesday.isoformat())
    [moved] = outbox(engine, bea.person_id, "conversation_moved_team")
    when, old = (bea.content.date(lang, d) for d in (tuesday, thursday))
    assert (
        bea.t(
            "nudges.conversation_moved_team",
            greeting=bea.content.greeting(lang, 10),
            name="Bea",
            other="Sam",
            date=when,
            old=old,
        )
        in moved.payload[0]["text"]
    )
    assert moved.payload[0][ABOUT] == [sam.person_id]
    assert reply_from_dict(moved.payload[0]).actions[0][0] == "team_growth"
    sent(engine, [])

    # The prep nudge of a date is withdrawn when the date moves before it went out.
    prep_day = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)  # 3 days before is a Saturday: Monday
    clock.now = prep_day
    [prep] = [n for n in nudges_at(engine, prep_day) if n.kind == "conversation_prep"]
    with Session(engine) as db:
        enqueue_many(db, [prep])
        db.commit()
    team_open(bea, sam, lang)
    bea.choose("move")
    later = date(2026, 12, 16)
    bea.send(later.isoformat())
    [withdrawn] = outbox(engine, sam.person_id, "conversation_prep")
    assert withdrawn.state == OutboxState.SKIPPED
    [told] = outbox(engine, sam.person_id, "conversation_moved")  # Sam knew of the date
    assert "Bea" in told.payload[0]["text"] and told.payload[0][ABOUT] == [bea.person_id]
    assert sam.content.date(lang, later) in told.payload[0]["text"]
    assert not [n for n in nudges_at(engine, prep_day) if n.kind == "conversation_prep"]
    sent(engine, [])
    new_prep = datetime(2026, 12, 14, 8, 30, tzinfo=UTC)  # Monday, as the 13th is a Sunday
    assert [n.key for n in nudges_at(engine, new_prep) if n.kind == "conversation_prep"] == [
        f"conversation_prep:{talks(engine)[0].id}:2026-12-16"
    ]

    # Sam cancels: Bea is told, and nothing more comes for it.
    clock.now = datetime(2026, 12, 10, 9, 0, tzinfo=UTC)
    sam.send(WORD[lang])
    sam.choose("cancel")
    sam.send(sam.t("common.yes"))
    [cancelled] = outbox(engine, bea.person_id, "conversation_cancelled_team")
    assert bea.content.date(lang, later) in cancelled.payload[0]["text"]
    sent(engine, [])
    for at in (new_prep, datetime(2026, 12, 15, 8, 30, tzinfo=UTC)):
        assert not [n for n in nudges_at(engine, at) if n.kind.startswith("conversation_")]
    [talk] = talks(engine)
    assert (talk.planned_for, talk.status) == (later, "cancelled")


def test_a_date_cancelled_before_the_other_side_heard_of_it_tells_nobody(
    engine: Engine, runtime: Runtime
) -> None:
    sam, bea = pair(engine, runtime, "en")
    sam.send(WORD["en"])
    sam.send(DAY.isoformat())
    sam.choose("later")
    sam.send(WORD["en"])
    sam.choose("cancel")
    sam.send("yes")
    assert outbox(engine, bea.person_id) == []
    assert not [n for n in nudges_at(engine, NOW) if n.person_id == bea.person_id]


# -- a rhythm ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_with_a_rhythm_the_next_date_is_proposed_after_the_conversation(
    engine: Engine, runtime: Runtime, clock: Clock, lang: str
) -> None:
    sam, bea = pair(engine, runtime, lang)
    team_open(bea, sam, lang)
    bea.send(DAY.isoformat())
    team_open(bea, sam, lang)
    bea.choose("rhythm")
    bea.expect(bea.t("growth.rhythm.ask", other="Sam"), bea.t("growth.rhythm.every", count=3))
    bea.choose("3")
    bea.expect(bea.t("growth.rhythm.set", count=3, other="Sam"))
    with Session(engine) as db:
        assert db.get(Person, sam.person_id).growth_rhythm_months == 3
    [told] = outbox(engine, sam.person_id, "conversation_rhythm")
    assert sam.t("growth.rhythm.phrase", count=3) in told.payload[0]["text"]
    assert told.payload[0][ABOUT] == [bea.person_id]

    clock.now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # the day after
    sam.send(WORD[lang])
    sam.send("OWN-AGREEMENT")
    sam.choose("private")
    march = date(2027, 3, 2)  # three months on, a Tuesday
    when = sam.content.date(lang, march)
    sam.expect(sam.t("growth.propose.ask", count=3, other="Bea", date=when))
    sam.choose("yes")
    sam.expect(sam.t("growth.planned", other="Bea", date=when))
    sam.choose("later")
    _, proposed = talks(engine)
    assert (proposed.planned_for, proposed.set_by, proposed.status) == (
        march,
        "employee",
        "planned",
    )
    # Nudges as for any date set: Bea hears of it, Sam gets the prep before it.
    announced = nudges_at(engine, datetime(2026, 12, 4, 8, 30, tzinfo=UTC))
    assert (bea.person_id, "conversation_planned_team") in {
        (n.person_id, n.kind) for n in announced
    }
    prep = nudges_at(engine, datetime(2027, 3, 1, 8, 30, tzinfo=UTC))  # 27 Feb: a Saturday
    assert [n.person_id for n in prep if n.kind == "conversation_prep"] == [sam.person_id]

    # Bea, noting her agreement afterwards, finds the next date already planned.
    team_open(bea, sam, lang)
    bea.send("NOTE")
    bea.expect(bea.t("growth.team_noted", name="Sam")).expect_not(bea.t("growth.propose.other"))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_manager_confirms_or_changes_the_proposed_date(
    engine: Engine, runtime: Runtime, clock: Clock, lang: str
) -> None:
    sam, bea = pair(engine, runtime, lang)
    sam.send(WORD[lang])
    sam.send(DAY.isoformat())
    sam.choose("later")
    sam.send(WORD[lang])
    sam.choose("rhythm")
    sam.choose("1")
    sam.expect(sam.t("growth.rhythm.set", count=1, other="Bea"))
    [told] = outbox(engine, bea.person_id, "conversation_rhythm_team")
    assert "Sam" in told.payload[0]["text"]

    clock.now = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    team_open(bea, sam, lang)
    bea.send("NOTE")
    january = date(2027, 1, 4)  # 2 January is a Saturday: the next working day
    bea.expect(
        bea.t("growth.propose.ask", count=1, other="Sam", date=bea.content.date(lang, january))
    )
    bea.choose("other")
    bea.expect(bea.t("growth.team_ask_date", name="Sam"))
    bea.send("2027-01-12")
    bea.expect(
        bea.t(
            "growth.team_planned",
            name="Sam",
            date=bea.content.date(lang, date(2027, 1, 12)),
            count=3,
        )
    )
    assert [(t.planned_for, t.set_by) for t in talks(engine)][1] == (date(2027, 1, 12), "manager")

    # Turning the rhythm off: the other side hears, and no date is proposed any more.
    sam.send(WORD[lang])  # Bea's note first, then Sam's own agreement: skip both
    sam.choose("no")
    sam.send(sam.t("common.skip"))
    sam.expect(sam.t("growth.no_agreement")).expect_not(sam.t("growth.propose.other"))
    sam.send(WORD[lang])
    sam.choose("rhythm")
    sam.expect(sam.t("growth.rhythm.now", count=1))
    sam.choose("0")
    sam.expect(sam.t("growth.rhythm.stopped", other="Bea"))
    assert len(outbox(engine, bea.person_id, "conversation_rhythm_team")) == 2
    with Session(engine) as db:
        assert db.get(Person, sam.person_id).growth_rhythm_months is None


# -- retention -----------------------------------------------------------------------------------


def test_old_conversations_are_announced_and_pruned_like_other_items(
    engine: Engine, runtime: Runtime
) -> None:
    sam, bea = pair(engine, runtime, "en")
    long_ago = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)
    with Session(engine) as db:
        for planned_for, changed, topics in (
            (date(2025, 9, 10), long_ago, "OLD-talk"),
            (date(2025, 9, 20), datetime(2026, 10, 1, tzinfo=UTC), "TOUCHED-talk"),  # noted lately
            (date(2027, 1, 5), long_ago, "AHEAD-talk"),  # set long ago, still to come
        ):
            db.add(
                GrowthConversation(
                    person_id=sam.person_id,
                    manager_id=bea.person_id,
                    planned_for=planned_for,
                    set_by="employee",
                    topics=topics,
                    created_at=long_ago,
                    updated_at=changed,
                )
            )
        db.commit()
    policy = NudgePolicy()
    with Session(engine) as db:
        notices = due_notices(db, load_content(), now=NOW, months=12, notice_days=14, policy=policy)
        assert [(n.person_id, n.kind) for n in notices] == [(sam.person_id, "retention")]
        assert "1 item" in notices[0].payload[0]["text"]
        enqueue_many(db, notices)
        db.commit()
        due = notices[0].due
        assert delete_announced(db, now=due + timedelta(days=13), months=12, notice_days=14) == 0
        assert delete_announced(db, now=due + timedelta(days=14), months=12, notice_days=14) == 1
        db.commit()
    assert sorted(t.topics for t in talks(engine)) == ["AHEAD-talk", "TOUCHED-talk"]


# -- the menu ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_menu_offers_the_newer_features_under_more(
    engine: Engine, runtime: Runtime, lang: str
) -> None:
    sam, _ = pair(engine, runtime, lang)
    sam.send("menu")
    first = [o.value for o in sam.prompt.options()]
    assert "more" in first and "growth" not in first and len(first) <= 10
    sam.choose("more")
    sam.expect(sam.t("menu.more_question"), sam.t("menu.options.growth"))
    more = [o.value for o in sam.prompt.options()]
    assert more == ["growth", "learning", "feedback", "settings", "back"]  # no buddy: not shown
    sam.choose("back")
    sam.expect(sam.t("menu.options.reflection"))
    sam.choose("more")
    sam.choose("growth")
    sam.expect(sam.t("growth.intro", other="Bea"))
    with Session(engine) as db:  # someone with a buddy finds "My buddy" there too
        me = db.get(Person, sam.person_id)
        me.buddy_id = db.exec(select(Person.id).where(Person.name == "Bea Baas")).one()
        db.add(me)
        db.commit()
    sam.send("menu")
    sam.choose("more")
    sam.choose("buddy")
    sam.expect(sam.t("buddy.yours", name="Bea Baas"))
