"""The content slips of issue 14, through the console runtime in both languages: greetings
that fit the hour, counts with the right form, no "?." after a title, one pronoun per
context, and words that say what happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dialogs.campaigns.launch import launch, plan_launch
from dialogs.campaigns.messages import action_intent, workshop_line
from dialogs.campaigns.spec import parse
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.engine.replies import Offer, reply_from_dict
from dialogs.engine.runtime import Runtime
from dialogs.engine.turn import Turn
from dialogs.nudges.rules import due_nudges
from dialogs.registry import DIALOGS
from storage.models import Person, Role
from tests.dialogs.conftest import NOW, Clock, add_person

SKIP = {"en": "skip", "nl": "overslaan"}


# -- 13: greetings that fit the hour ------------------------------------------------------


@pytest.mark.parametrize(
    ("utc", "zone", "part"),
    [
        ((9, 30), "Europe/Amsterdam", "morning"),  # 10:30
        ((13, 0), "Europe/Amsterdam", "afternoon"),  # 14:00
        ((18, 30), "Europe/Amsterdam", "evening"),  # 19:30
        ((2, 0), "Europe/Amsterdam", "any"),  # 03:00: just "Hi"
        ((9, 30), "America/New_York", "any"),  # 04:30 in New York
        ((15, 0), "America/New_York", "morning"),  # 10:00 in New York
    ],
)
@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_menu_greets_for_the_hour_where_the_person_is(
    chat, clock: Clock, utc: tuple[int, int], zone: str, part: str, lang: str
) -> None:
    clock.now = NOW.replace(hour=utc[0], minute=utc[1])
    tx = chat(lang, name="Sam Smit", timezone=zone)
    tx.send("menu")
    greeting = tx.t(f"greetings.{part}")
    tx.expect(tx.t("menu.question", greeting=greeting, name="Sam"))
    others = {"morning", "afternoon", "evening"} - {part}
    tx.expect_not(*(f"{tx.t(f'greetings.{other}')} Sam" for other in others))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_welcome_greets_for_the_hour(chat, clock: Clock, lang: str) -> None:
    clock.now = NOW.replace(hour=19)  # 20:00 in Amsterdam
    tx = chat(lang, welcomed=False, name="Noor de Vries")
    tx.send("hallo" if lang == "nl" else "hello")
    evening = tx.t("greetings.evening")
    tx.expect(f"{evening} Noor, ").expect_not(tx.t("greetings.morning"))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_check_in_nudge_greets_for_its_hour(engine: Engine, lang: str) -> None:
    """The nudge rules pass the person's local hour (a check-in at their 14:00)."""
    welcomed = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)
    person = add_person(engine, "sam@example.com", language=lang, name="Sam Smit")
    with Session(engine) as db:
        row = db.get(Person, person)
        assert row is not None
        row.welcomed_at, row.nudge_time, row.nudge_frequency = welcomed, "14:00", "weekly"
        db.add(row)
        db.commit()
    due = datetime(2026, 11, 16, 13, 5, tzinfo=UTC)  # Monday 14:05 in Amsterdam
    with Session(engine) as db:
        [nudge] = due_nudges(db, load_content(), now=due, policy=NudgePolicy())
    text = reply_from_dict(nudge.payload[0]).text
    content = load_content()
    assert text.startswith(f"{content.greeting(lang, 14)} Sam!"), text


# -- 14: counts, punctuation, pronouns, plain words ----------------------------------------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_title_ending_in_a_question_mark_gets_no_full_stop_after_it(chat, lang: str) -> None:
    tx = chat(lang)
    tx.send("plan")
    tx.choose("add")
    tx.choose("personal")
    title = "Leren nee zeggen?" if lang == "nl" else "Learn to say no?"
    tx.send(title)
    tx.send(tx.t("common.not_sure"))
    tx.expect(tx.t("plan.added", title=title))
    assert "?’." not in tx.text and "?'." not in tx.text
    assert ("‘Leren nee zeggen?’" if lang == "nl" else "'Learn to say no?'") in tx.text


@pytest.mark.parametrize(
    ("lang", "typed", "said"),
    [
        ("en", "Excel, explaining things simply", "Added 2 entries to your profile."),
        ("en", "Excel", "Added one entry to your profile."),
        ("nl", "Excel, dingen eenvoudig uitleggen", "2 punten toegevoegd aan je profiel."),
        ("nl", "Excel", "Eén punt toegevoegd aan je profiel."),
    ],
)
def test_the_profile_says_what_it_added(chat, lang: str, typed: str, said: str) -> None:
    tx = chat(lang)
    tx.send("profile" if lang == "en" else "profiel")
    tx.choose("skill")
    tx.send(typed)
    tx.expect(said)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_reflection_counts_its_questions_in_words(chat, lang: str) -> None:
    tx = chat(lang)
    tx.send("reflect" if lang == "en" else "reflectie")
    tx.expect(tx.t("reflection.intro", count=3))
    assert ("3 short questions" if lang == "en" else "3 korte vragen") in tx.text


@pytest.mark.parametrize(("lang", "expected"), [("en", "· 1 place"), ("nl", "· 1 plek")])
def test_a_workshop_with_one_place_says_so(lang: str, expected: str) -> None:
    spec = parse(WORKSHOP.replace("capacity: 2", "capacity: 1"))
    line = workshop_line(load_content(), spec, "energy", "Europe/Amsterdam", lang)
    assert line.endswith(expected)
    two = workshop_line(load_content(), parse(WORKSHOP), "energy", "Europe/Amsterdam", lang)
    assert two.endswith("· 2 places" if lang == "en" else "· 2 plekken")


def test_hr_campaigns_are_explained_in_plain_dutch_to_someone_else(chat) -> None:
    tx = chat("nl")
    tx.send("campagnes")
    tx.expect("Campagnes zijn in handen van HR.", "Zeg ‘privacy’.")
    tx.expect_not("worden door HR gedaan")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_default_for_new_items_reads_right_in_the_sentence(chat, lang: str) -> None:
    tx = chat(lang)
    tx.send("privacy")
    tx.choose("default")
    tx.choose("manager")
    said = tx.t("privacy.default_set", visibility=tx.t("privacy.visibility.manager"))
    tx.expect(said)
    assert ("your manager" if lang == "en" else "je leidinggevende") in said
    assert "my manager" not in said and "mijn leidinggevende" not in said


# -- 14: texts whose logic lives elsewhere (runtime, privacy centre, campaign replies) ------


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_default_buttons_speak_as_the_person(chat, lang: str) -> None:
    tx = chat(lang)
    tx.send("privacy")
    tx.choose("default")
    labels = [o.label for o in tx.prompt.options()]
    assert labels == [
        tx.t("privacy.default_options.private"),
        tx.t("privacy.default_options.manager"),
    ]
    assert ("my manager" if lang == "en" else "mijn leidinggevende") in labels[1]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_resume_when_nothing_was_paused_says_so(chat, lang: str) -> None:
    tx = chat(lang)
    tx.send("resume" if lang == "en" else "hervat")
    tx.expect(tx.t("runtime.not_paused")).expect_not(tx.t("runtime.resumed"))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_resume_after_a_pause_turns_nudges_back_on(chat, lang: str) -> None:
    tx = chat(lang, nudge_paused_until=(NOW + timedelta(days=10)).date())
    tx.send("resume" if lang == "en" else "hervat")
    tx.expect(tx.t("runtime.resumed"))


WORKSHOP = """\
id: growth-week
name: {en: Growth week, nl: Groeiweek}
owner: hr@example.com
start: 2026-12-07
workshops:
  - id: energy
    title: {en: "What gives you energy?", nl: "Waar krijg je energie van?"}
    starts: "2026-12-08T14:00+01:00"
    minutes: 90
    capacity: 2
steps:
  - id: lineup
    day: 0
    time: "11:00"
    message: {en: "Today's workshop", nl: "De workshop van vandaag"}
    rsvp: [energy]
"""


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_someone_on_the_waitlist_is_offered_to_leave_it_not_to_give_up_a_place(
    engine: Engine, lang: str
) -> None:
    content = load_content()
    add_person(engine, "hr@example.com", role=Role.HR)
    first = add_person(engine, "a@example.com", language=lang)
    second = add_person(engine, "b@example.com", language=lang)
    launched = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    spec = parse(WORKSHOP.replace("capacity: 2", "capacity: 1"))
    with Session(engine, expire_on_commit=False) as db:
        owner = db.exec(select(Person).where(Person.email == "hr@example.com")).one()
        plan = plan_launch(db, spec, now=launched)
        campaign = launch(db, content, plan, owner=owner, now=launched, policy=NudgePolicy())
        db.commit()
    assert campaign.id is not None
    now = datetime(2026, 12, 7, 10, 30, tzinfo=UTC)
    runtime = Runtime(engine, dialogs=DIALOGS, content=content, clock=lambda: now)

    def press(person: int, intent: str) -> tuple[list[str], list[tuple[str, str]]]:
        replies = runtime.handle(Turn(person_id=person, intent=intent))
        buttons = [action for r in replies if isinstance(r, Offer) for action in r.actions]
        return [r.text for r in replies], buttons

    rsvp = action_intent(campaign.id, "lineup", "rsvp", "energy")
    _, [(_, label)] = press(first, rsvp)
    assert label == content.text(lang, "campaigns.buttons.cancel_place")
    _, [(leave, label)] = press(second, rsvp)
    assert label == content.text(lang, "campaigns.buttons.leave_waitlist")
    said, _ = press(second, leave)
    name = spec.text(spec.workshops[0].title, lang)
    assert said == [content.text(lang, "campaigns.reply.left_waitlist", workshop=name)]
