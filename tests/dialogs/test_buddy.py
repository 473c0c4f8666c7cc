"""A new hire's buddy: a kind heads-up to the buddy before the start date, onboarding check-ins
that introduce the buddy and ask after a month how it is going, and the conversation behind
their button — in both languages; how it is going is not stored, and forgetting either person
removes their name from the other's messages."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.engine.replies import Offer, reply_from_dict
from dialogs.engine.runtime import Runtime
from dialogs.nudges.calm import WELCOME_MARK
from dialogs.nudges.rules import due_nudges, welcome_delivered
from storage.models import Answer, Outbound, OutboxState, Person
from storage.outbox import ABOUT, enqueue_many
from storage.personal_data import forget_person
from tests.dialogs.conftest import add_person
from tests.dialogs.transcript import Transcript

START = date(2026, 12, 7)  # a Monday


def org(engine: Engine, lang: str) -> tuple[int, int, int]:
    manager = add_person(engine, "bea@example.com", language=lang, name="Bea Baas")
    buddy = add_person(engine, "kim@example.com", language=lang, name="Kim de Vries")
    new = add_person(
        engine,
        "noor@example.com",
        language=lang,
        name="Noor Bakker",
        manager_id=manager,
        buddy_id=buddy,
        start_date=START,
    )
    return manager, buddy, new


def onboarding(nudges: list, person_id: int) -> list:
    return [n for n in nudges if n.person_id == person_id and n.kind.startswith("onboarding")]


def nudges_at(engine: Engine, at: datetime) -> list:
    with Session(engine) as db:
        return due_nudges(db, load_content(), now=at, policy=NudgePolicy())


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_buddy_hears_a_few_days_before_the_start_once(engine: Engine, lang: str) -> None:
    _, buddy, new = org(engine, lang)
    too_early = datetime(2026, 12, 3, 8, 30, tzinfo=UTC)
    assert not [n for n in nudges_at(engine, too_early) if n.kind == "buddy_heads_up"]
    friday = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)  # three days before, 09:30 local
    [heads_up] = [n for n in nudges_at(engine, friday) if n.kind == "buddy_heads_up"]
    assert heads_up.person_id == buddy
    content = load_content()
    offer = reply_from_dict(heads_up.payload[0])
    assert isinstance(offer, Offer)
    assert (
        content.text(
            lang,
            "nudges.buddy_heads_up",
            greeting=content.greeting(lang, 9),
            name="Kim",
            full_name="Noor Bakker",
            date=content.date(lang, START),
        )
        in offer.text
    )
    assert offer.actions[0][0] == "buddy"
    assert heads_up.payload[0][ABOUT] == [new]
    assert "Noor" not in heads_up.payload[0]["also"]
    with Session(engine) as db:
        enqueue_many(db, [heads_up])
        db.commit()
    assert not [n for n in nudges_at(engine, friday) if n.kind == "buddy_heads_up"]
    on_the_day = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)
    assert not [n for n in nudges_at(engine, on_the_day) if n.kind == "buddy_heads_up"]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_onboarding_check_ins_introduce_the_buddy_and_ask_after_a_month(
    engine: Engine, lang: str
) -> None:
    _, buddy, new = org(engine, lang)
    content = load_content()
    week = datetime(2026, 12, 14, 8, 30, tzinfo=UTC)
    [first] = onboarding(nudges_at(engine, week), new)
    assert first.kind == "onboarding_buddy_7" and first.key == f"onboarding:{new}:7"
    assert content.text(lang, "nudges.onboarding_buddy_7", name="Noor", buddy="Kim") in str(
        first.payload[0]["text"]
    )
    assert reply_from_dict(first.payload[0]).actions[0][0] == "checkin"
    assert first.payload[0][ABOUT] == [buddy]
    month = datetime(2027, 1, 6, 8, 30, tzinfo=UTC)
    [second] = onboarding(nudges_at(engine, month), new)
    assert second.kind == "onboarding_buddy_30"
    assert reply_from_dict(second.payload[0]).actions[0][0] == "buddy"
    three_months = datetime(2027, 3, 9, 8, 30, tzinfo=UTC)
    [third] = onboarding(nudges_at(engine, three_months), new)
    assert third.kind == "onboarding_91"  # the buddy is not named every time


def test_without_a_buddy_the_check_ins_are_as_before(engine: Engine) -> None:
    new = add_person(engine, "solo@example.com", start_date=START)
    week = datetime(2026, 12, 14, 8, 30, tzinfo=UTC)
    assert [n.kind for n in onboarding(nudges_at(engine, week), new)] == ["onboarding_7"]


ANSWERS = {"en": "buddy", "nl": "mijn buddy"}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_how_is_it_going_with_the_buddy_is_asked_and_not_stored(
    engine: Engine, runtime: Runtime, lang: str
) -> None:
    _, _, new = org(engine, lang)
    tx = Transcript(runtime, new)
    tx.press("buddy")  # the 1-month check-in's button
    tx.expect(tx.t("buddy.yours", name="Kim de Vries"), tx.t("buddy.ask_how", name="Kim"))
    tx.choose("not_met")
    tx.expect(tx.t("buddy.replies.not_met", name="Kim"), tx.t("buddy.ask_checkin"))
    tx.choose("no")
    tx.expect(tx.t("buddy.bye"))
    tx.send(ANSWERS[lang])
    tx.choose("not_well")
    tx.expect(tx.t("buddy.replies.not_well_manager", name="Kim", manager="Bea"))
    tx.choose("yes")
    tx.expect(tx.t("checkin.energy"))  # on to the check-in
    with Session(engine) as db:
        assert db.exec(select(Answer)).all() == []


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_buddy_sees_who_they_look_after_and_a_few_ideas(
    engine: Engine, runtime: Runtime, lang: str
) -> None:
    _, buddy, _ = org(engine, lang)
    tx = Transcript(runtime, buddy)
    tx.send(ANSWERS[lang])
    tx.expect(tx.t("buddy.you_are", count=1, names="Noor Bakker"), tx.t("buddy.tips"))
    nobody = Transcript(runtime, add_person(engine, "x@example.com", language=lang))
    nobody.send(ANSWERS[lang])
    nobody.expect(nobody.t("buddy.none"))


def test_forgetting_the_buddy_removes_their_name_and_the_link(engine: Engine) -> None:
    _, buddy, new = org(engine, "en")
    with Session(engine) as db:
        enqueue_many(db, nudges_at(engine, datetime(2026, 12, 14, 8, 30, tzinfo=UTC)))
        db.commit()
        forget_person(db, db.get(Person, buddy))
        db.commit()
    with Session(engine) as db:
        [row] = db.exec(
            select(Outbound).where(Outbound.person_id == new, Outbound.kind == "onboarding_buddy_7")
        ).all()
        assert row.payload == []  # its only part named Kim
        assert db.get(Person, new).buddy_id is None


def never_welcomed_buddy(engine: Engine, lang: str, **fields: object) -> tuple[int, int]:
    """Kim is Noor's buddy, and has never talked to Regie."""
    buddy = add_person(
        engine, "kim@example.com", language=lang, name="Kim de Vries", welcomed=False, **fields
    )
    new = add_person(
        engine,
        "noor@example.com",
        language=lang,
        name="Noor Bakker",
        buddy_id=buddy,
        start_date=START,
    )
    return buddy, new


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_buddy_never_welcomed_gets_the_heads_up_with_one_line_about_regie(
    engine: Engine, lang: str
) -> None:
    buddy, new = never_welcomed_buddy(engine, lang, slack_user_id="U-KIM")
    friday = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)
    mine = [n for n in nudges_at(engine, friday) if n.person_id == buddy]
    [heads_up] = mine  # only the heads-up: no check-in or reflection for someone not welcomed
    assert heads_up.kind == "buddy_heads_up"
    [data] = heads_up.payload  # no welcome before it: it is about someone else
    assert WELCOME_MARK not in data
    content = load_content()
    text = reply_from_dict(data).text
    assert content.text(lang, "nudges.intro") in text
    assert "Noor Bakker" in text and data[ABOUT] == [new]
    with Session(engine) as db:
        enqueue_many(db, [heads_up])
        row = db.exec(select(Outbound).where(Outbound.person_id == buddy)).one()
        row.state = OutboxState.SENT
        assert welcome_delivered(db, [row], now=friday) == 0  # the welcome waits for them
        db.commit()
        assert db.get(Person, buddy).welcomed_at is None
    assert not [n for n in nudges_at(engine, friday) if n.person_id == buddy]  # once


def test_a_welcomed_buddy_gets_no_introduction(engine: Engine) -> None:
    _, buddy, _ = org(engine, "en")
    friday = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)
    [heads_up] = [n for n in nudges_at(engine, friday) if n.kind == "buddy_heads_up"]
    assert heads_up.person_id == buddy
    assert load_content().text("en", "nudges.intro") not in heads_up.payload[0]["text"]


def test_a_buddy_never_welcomed_is_left_be_when_paused_or_unreachable(engine: Engine) -> None:
    friday = datetime(2026, 12, 4, 8, 30, tzinfo=UTC)
    paused, _ = never_welcomed_buddy(
        engine, "en", slack_user_id="U-KIM", nudge_paused_until=date(2026, 12, 31)
    )
    other = add_person(engine, "lou@example.com", name="Lou Laan", welcomed=False)  # no address
    add_person(engine, "new2@example.com", name="Nina Nieuw", buddy_id=other, start_date=START)
    found = nudges_at(engine, friday)
    assert not [n for n in found if n.person_id in (paused, other)]
    with Session(engine) as db:  # turned nudges off: nothing either
        kim = db.get(Person, paused)
        kim.nudge_paused_until, kim.nudge_frequency = None, "off"
        db.add(kim)
        db.commit()
    assert not [n for n in nudges_at(engine, friday) if n.person_id == paused]
    with Session(engine) as db:
        kim = db.get(Person, paused)
        kim.nudge_frequency = "biweekly"
        db.add(kim)
        db.commit()
    assert [n.kind for n in nudges_at(engine, friday) if n.person_id == paused] == [
        "buddy_heads_up"
    ]
