"""Know, Flow, Glow, Grow: placing yourself and your manager (or team) on the field, private
until shared, covered by export and deletion, and the look back a few months later — planned
by the nudge rule, asked in the conversation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.engine.replies import Offer, reply_from_dict
from dialogs.nudges.field_followups import (
    FOLLOW_UP_KIND,
    Placement,
    field_followups,
    placements_to_follow_up,
)
from dialogs.nudges.rules import due_nudges
from storage.models import Answer, Person, Visibility
from storage.personal_data import export_person, forget_person
from tests.dialogs.conftest import NOW, Clock, add_person
from tests.dialogs.transcript import Transcript

NO = {"en": "no", "nl": "nee"}


def answers(engine: Engine, person_id: int) -> list[Answer]:
    with Session(engine) as db:
        return list(
            db.exec(
                select(Answer)
                .where(Answer.person_id == person_id, Answer.dialog_id == "field")
                .order_by(col(Answer.id))
            )
        )


def with_manager(engine: Engine, chat: Callable[..., Transcript], lang: str) -> Transcript:
    manager = add_person(engine, "marieke@example.com", language="nl", name="Marieke Jansen")
    return chat(lang, name="Sam Smit", manager_id=manager, default_visibility="private")


def place(tx: Transcript, mine: str, who: str, theirs: str | None, note: str | None) -> None:
    tx.send("menu")
    tx.choose("field")
    tx.expect("Know", "Flow", "Glow", "Grow", tx.t("field.frames.glow"))
    tx.choose(mine)
    tx.expect(tx.t("field.ask_who"))
    tx.choose(who)
    if theirs is not None:
        tx.choose(theirs)
    tx.send(note if note is not None else tx.t("common.skip"))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_place_yourself_then_your_manager_and_talk_about_the_gap(
    chat, engine: Engine, lang: str
) -> None:
    tx = with_manager(engine, chat, lang)
    tx.send("menu")
    tx.expect(tx.t("menu.options.field"))
    tx.choose("field")
    tx.expect(tx.t("field.ask_self").splitlines()[1])  # Know, explained in a line
    tx.choose("flow")
    tx.choose("manager")
    tx.expect(tx.t("field.ask_manager", manager="Marieke"))
    tx.choose("grow")
    tx.expect(tx.t("field.ask_gap", mine="Flow", whom="Marieke", theirs="Grow"))
    tx.send("She sees more room to grow than I do")
    tx.expect(tx.t("field.saved"), tx.t("sharing.offer", manager="Marieke"))

    rows = answers(engine, tx.person_id)
    assert [(a.question_id, a.frame) for a in rows] == [
        ("field-self", "flow"),
        ("field-manager", "grow"),
        ("field-note", None),
    ]
    assert rows[0].text == tx.t("field.rows.self", frame="Flow")
    assert rows[1].text == tx.t("field.rows.manager", frame="Grow")
    assert rows[2].text == "She sees more room to grow than I do"
    assert {a.visibility for a in rows} == {Visibility.PRIVATE}  # private until shared

    tx.choose("share")
    tx.expect(tx.t("sharing.shared", manager="Marieke"))
    assert {a.visibility for a in answers(engine, tx.person_id)} == {Visibility.MANAGER}
    assert not [r for r in tx.replies if hasattr(r, "options") and r.options()]  # done


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_your_team_in_the_same_place_or_nobody_and_no_note(chat, engine: Engine, lang: str) -> None:
    tx = chat(lang)  # no manager in Regie: no share offer
    tx.send("menu")
    tx.choose("field")
    tx.choose("know")
    tx.choose("team")
    tx.expect(tx.t("field.ask_team"))
    tx.choose("know")
    tx.expect(tx.t("field.ask_same", whom=tx.t("field.your_team"), mine="Know"))
    tx.send(tx.t("common.skip"))
    tx.expect(tx.t("field.saved")).expect_not(tx.t("sharing.keep"))
    assert [(a.question_id, a.frame, a.text) for a in answers(engine, tx.person_id)] == [
        ("field-self", "know", tx.t("field.rows.self", frame="Know")),
        ("field-team", "know", tx.t("field.rows.team", frame="Know")),
    ]

    tx.send("menu")  # a week later (the clock is the same): no look back yet, a fresh field
    tx.choose("field")
    tx.choose("grow")
    tx.choose("nobody")
    tx.expect(tx.t("field.ask_alone", mine="Grow"))
    tx.send("A course in facilitation")
    assert [a.question_id for a in answers(engine, tx.person_id)][-2:] == [
        "field-self",
        "field-note",
    ]


def test_the_field_is_the_persons_own_data_export_privacy_centre_and_forget(
    chat, engine: Engine
) -> None:
    tx = with_manager(engine, chat, "en")
    place(tx, "glow", "manager", "know", "We hardly talk about it")
    tx.choose("private")
    tx.expect(tx.t("sharing.kept"))

    tx.send("privacy")
    tx.choose("share")
    tx.expect("🔒 Reflection: Me: Glow", "🔒 Reflection: My manager: Know")
    tx.send("stop")

    with Session(engine) as db:
        person = db.get(Person, tx.person_id)
        assert person is not None
        exported = export_person(db, person)
        assert [a["question_id"] for a in exported["answer"]] == [
            "field-self",
            "field-manager",
            "field-note",
        ]
        forget_person(db, person)
        db.commit()
    assert answers(engine, tx.person_id) == []


def test_a_shared_placement_reads_well_to_the_manager(chat, engine: Engine) -> None:
    from dialogs.nudges.manager_view import render_shared
    from storage.privacy import SharedItems

    tx = with_manager(engine, chat, "en")
    place(tx, "flow", "manager", "grow", "Different pictures of my work")
    tx.choose("share")
    with Session(engine) as db:
        person = db.get(Person, tx.person_id)
        assert person is not None
        shown = render_shared(
            load_content(), "nl", person, SharedItems(answers=answers(engine, tx.person_id))
        )
    assert "Waar op het speelveld zou je je leidinggevende zetten? → My manager: Grow" in shown
    assert "Know, Flow, Glow of Grow: waar sta je nu op het speelveld? → Me: Flow" in shown


# -- the look back ----------------------------------------------------------------------


def test_the_follow_up_rule_is_due_once_three_months_on() -> None:
    placed = Placement(
        answer_id=7, person_id=1, at=datetime(2026, 3, 2, 9, tzinfo=UTC), frame="flow"
    )
    day = date(2026, 3, 2)
    assert field_followups(placed, day + timedelta(days=90)) == []
    due = field_followups(placed, day + timedelta(days=91))
    assert due == [
        (FOLLOW_UP_KIND, "field_followup:7", day + timedelta(days=91), {"field": "Flow"}, None)
    ]
    assert field_followups(placed, day + timedelta(days=121)) == due  # a month's grace
    assert field_followups(placed, day + timedelta(days=122)) == []
    looked_back = Placement(7, 1, placed.at, "flow", looked_back=True)
    assert field_followups(looked_back, day + timedelta(days=95)) == []
    assert field_followups(None, day) == []


def test_the_rules_input_is_each_persons_latest_placement(
    chat, engine: Engine, clock: Clock
) -> None:
    tx = chat("en")
    place(tx, "know", "nobody", None, None)
    clock.now = NOW + timedelta(days=20)
    place(tx, "grow", "team", "flow", None)  # placed again within weeks: no look back yet
    tx_other = chat("nl", email="noor@example.com")
    place(tx_other, "glow", "nobody", None, None)
    with Session(engine) as db:
        found = placements_to_follow_up(db, now=NOW + timedelta(days=92))
    assert {p.person_id: p.frame for p in found.values()} == {
        tx.person_id: "grow",
        tx_other.person_id: "glow",
    }


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_three_months_later_the_field_starts_with_the_look_back(
    chat, engine: Engine, clock: Clock, lang: str
) -> None:
    tx = with_manager(engine, chat, lang)
    place(tx, "flow", "manager", "grow", None)
    tx.choose("share")
    clock.now = NOW + timedelta(days=92)

    with Session(engine) as db:
        placements = placements_to_follow_up(db, now=clock.now)
    today = clock.now.date()
    [(kind, key, _, values, _)] = field_followups(placements[tx.person_id], today)
    nudge = load_content().text(lang, f"nudges.{kind}", **values)
    assert "Flow" in nudge and key.startswith("field_followup:")

    tx.send("menu")
    tx.choose("field")
    placed_on = load_content().date(lang, NOW.date())
    tx.expect(
        tx.t("field.look_back_other", date=placed_on, mine="Flow", whom="Marieke", theirs="Grow"),
        tx.t("field.ask_practice"),
        tx.t("field.practice.partly"),
    )
    tx.choose("partly")
    tx.expect(tx.t("field.ask_practice_note"))
    tx.send("Our monthly talk helps")
    tx.expect(tx.t("field.practice_thanks"), tx.t("sharing.offer", manager="Marieke"))
    tx.choose("private")
    tx.expect(tx.t("field.ask_again"))
    tx.send(NO[lang])
    tx.expect(tx.t("field.bye"))

    practice = answers(engine, tx.person_id)[-1]
    assert practice.question_id == "field-practice"
    assert practice.text == tx.t(
        "field.rows.practice", how=tx.t("field.practice.partly"), note="Our monthly talk helps"
    )
    with Session(engine) as db:  # looked back: no nudge any more
        assert (
            field_followups(placements_to_follow_up(db, now=clock.now)[tx.person_id], today) == []
        )

    tx.send("menu")  # and the next time, a fresh field
    tx.choose("field")
    tx.expect(tx.t("field.ask_self").splitlines()[0])


def test_look_back_then_place_yourself_again(chat, engine: Engine, clock: Clock) -> None:
    tx = chat("nl")
    place(tx, "know", "nobody", None, None)
    clock.now = NOW + timedelta(days=100)
    tx.send("menu")
    tx.choose("field")
    tx.expect(tx.t("field.look_back", date=load_content().date("nl", NOW.date()), mine="Know"))
    tx.choose("well")
    tx.send("overslaan")
    tx.send("ja")
    tx.expect(tx.t("field.ask_self").splitlines()[0])
    tx.choose("glow")
    tx.choose("nobody")
    tx.send("overslaan")
    assert [(a.question_id, a.frame) for a in answers(engine, tx.person_id)] == [
        ("field-self", "know"),
        ("field-practice", None),
        ("field-self", "glow"),
    ]
    assert answers(engine, tx.person_id)[1].text == tx.t("field.practice.well")


# -- wiring that lives in other modules (the word, the nudge, the nudge's button) ----------


@pytest.mark.parametrize(("lang", "word"), [("en", "field"), ("nl", "speelveld")])
def test_the_field_is_reachable_by_a_word(chat, lang: str, word: str) -> None:
    tx = chat(lang)
    tx.send(word)
    tx.expect(tx.t("field.ask_self").splitlines()[-1])


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_nudge_rules_plan_the_look_back_and_its_button_opens_it(
    chat, engine: Engine, clock: Clock, lang: str
) -> None:
    tx = chat(lang)
    place(tx, "glow", "nobody", None, None)
    due_day = NOW + timedelta(days=91)  # a Monday; 10:30 in Amsterdam, past the 09:30 slot
    with Session(engine) as db:
        nudges = due_nudges(db, load_content(), now=due_day, policy=NudgePolicy())
    [nudge] = [n for n in nudges if n.person_id == tx.person_id and n.kind == FOLLOW_UP_KIND]
    assert not nudge.skipped and nudge.key.startswith("field_followup:")
    offer = reply_from_dict(nudge.payload[0])
    assert isinstance(offer, Offer)
    assert tx.t("nudges.field_followup", field="Glow").split("(")[0] in offer.text
    [(intent, label), _pause] = offer.actions
    assert label == tx.t("nudges.actions.field")

    clock.now = due_day
    tx.press(intent)
    tx.expect(tx.t("field.ask_practice"))
