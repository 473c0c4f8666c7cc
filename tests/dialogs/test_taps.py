"""Every tap does what it says (issue 14, items 1–4 and 7–9): a typed number is the position
shown, every share offer takes effect, the skip word is never stored, every item can be
reached in the share list, the year summary counts conversations, a refused button changes
nothing, and Dutch place names work for a time zone."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dialogs.campaigns.launch import cancel
from dialogs.campaigns.messages import action_intent
from dialogs.campaigns.spec import parse
from dialogs.engine.replies import Prompt
from dialogs.engine.runtime import Outcome
from dialogs.engine.turn import Turn
from dialogs.flows.preferences import PLACE_NAMES, find_timezone
from dialogs.flows.privacy import SHARE_PAGE_SIZE
from storage.models import Answer, Campaign, DialogSession, Experiment, Person, PlanItem, Role
from tests.dialogs.conftest import NOW, Clock, add_person
from tests.dialogs.test_campaigns import WEEK, launch_spec
from tests.dialogs.transcript import Transcript

LANGS = ["en", "nl"]


def word(lang: str, en: str, nl: str) -> str:
    return en if lang == "en" else nl


def person_row(tx: Transcript) -> Person:
    with Session(tx.runtime.engine) as db:
        person = db.get(Person, tx.person_id)
        assert person is not None
        return person


def rows(engine: Engine, model: Any, person_id: int) -> list[Any]:
    with Session(engine) as db:
        return list(db.exec(select(model).where(model.person_id == person_id).order_by(model.id)))


# -- 1. a typed number is the position shown ----------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_typed_number_is_the_position_shown_not_an_option_value(chat, lang: str) -> None:
    tx = chat(lang)
    tx.send(word(lang, "settings", "instellingen"))
    tx.choose("weekday")
    tx.expect(tx.t("settings.any_day"), tx.t("settings.weekdays.d1"))
    tx.send("1")  # the first option shown: any working day (whose value is "any")
    tx.send("2")  # the second time shown: 09:30
    tx.expect(tx.t("settings.when_set", when=f"{tx.t('settings.any_day')}, 09:30"))
    assert (person_row(tx).nudge_weekday, person_row(tx).nudge_time) == (None, "09:30")

    tx.choose("weekday")
    tx.send("3")  # the third option shown is Tuesday (value "1"), not Thursday (value "3")
    tx.send("1")
    assert (person_row(tx).nudge_weekday, person_row(tx).nudge_time) == (1, "08:30")
    tx.expect(tx.t("settings.weekdays.d1"))

    tx.choose("weekday")
    tx.choose("4")  # a button press still matches its value exactly: Friday
    tx.choose("16:00")
    assert (person_row(tx).nudge_weekday, person_row(tx).nudge_time) == (4, "16:00")


@pytest.mark.parametrize("lang", LANGS)
def test_a_typed_number_picks_the_experiment_at_that_place_in_the_list(
    chat, engine: Engine, lang: str
) -> None:
    other = add_person(engine, "other@example.com")
    tx = chat(lang)
    with Session(engine) as db:
        db.add(Experiment(person_id=other, title="Someone else's", created_at=NOW))
        db.flush()
        db.add(Experiment(person_id=tx.person_id, title="Join a sales call", created_at=NOW))
        db.flush()
        db.add(Experiment(person_id=tx.person_id, title="Teach Excel", created_at=NOW))
        db.commit()
    first, second = rows(engine, Experiment, tx.person_id)
    tx.send("experiment")
    tx.choose("update")
    tx.expect(first.title, second.title)
    tx.send("2")  # the second on the list, whatever its id
    tx.expect(tx.t("experiment.ask_status", title="Teach Excel"))
    tx.send("2")  # the second state shown: done
    tx.expect(tx.t("experiment.well_done"))
    assert [e.status for e in rows(engine, Experiment, tx.person_id)] == ["planned", "done"]


@pytest.mark.parametrize("lang", LANGS)
def test_an_id_is_never_something_a_person_can_type(chat, engine: Engine, lang: str) -> None:
    other = add_person(engine, "other@example.com")
    tx = chat(lang)
    with Session(engine) as db:
        db.add(Experiment(person_id=other, title="Someone else's", created_at=NOW))
        db.flush()
        db.add(Experiment(person_id=tx.person_id, title="Teach Excel", created_at=NOW))
        db.commit()
    [mine] = rows(engine, Experiment, tx.person_id)
    assert mine.id is not None and mine.id > 1
    tx.send("experiment")
    tx.choose("update")
    tx.send(str(mine.id))  # its id, but only one item is shown
    tx.expect(tx.t("retry.choice"), tx.t("experiment.which"))
    tx.send("1")
    tx.expect(tx.t("experiment.ask_status", title="Teach Excel"))


# -- 2. every share offer in a loop confirms and takes effect ----------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_every_share_offer_in_one_plan_conversation_takes_effect(
    engine: Engine, runtime, lang: str
) -> None:
    boss = add_person(engine, "james@example.com", name="James Baas")
    tx = Transcript(runtime, add_person(engine, "sam@example.com", language=lang, manager_id=boss))
    tx.send("plan")
    for title, answer in (("Present", "share"), ("Listen", "private"), ("Coach", "share")):
        tx.choose("add")
        tx.choose("personal")
        tx.send(title)
        tx.send(word(lang, "skip", "overslaan"))
        tx.expect(tx.t("plan.added", title=title), tx.t("sharing.offer", manager="James"))
        tx.choose(answer)
        key = "sharing.shared" if answer == "share" else "sharing.kept"
        tx.expect(tx.t(key, manager="James"), tx.t("plan.what_now"))
    visibility = {p.title: p.visibility for p in rows(engine, PlanItem, tx.person_id)}
    assert visibility == {"Present": "manager", "Listen": "private", "Coach": "manager"}


# -- 3. the skip word is never stored as an answer --------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_a_required_answer_refuses_the_skip_word_and_a_skippable_one_stores_nothing(
    chat, engine: Engine, lang: str
) -> None:
    tx = chat(lang)
    with Session(engine) as db:
        db.add(Experiment(person_id=tx.person_id, title="Teach Excel", created_at=NOW))
        db.commit()
    [item] = rows(engine, Experiment, tx.person_id)
    skip = word(lang, "skip", "overslaan")
    tx.send("experiment")
    tx.choose("update")
    tx.choose(str(item.id))
    tx.choose("done")
    tx.expect(tx.t("experiment.ask_learned", title="Teach Excel"))
    tx.send(skip)
    tx.expect(tx.t("retry.required"), tx.t("experiment.ask_learned", title="Teach Excel"))
    assert tx.prompt.step == "learned"
    assert rows(engine, Experiment, tx.person_id)[0].learned is None
    tx.send("Teaching is learning twice")
    tx.expect(tx.t("experiment.ask_keep"))
    tx.send(skip)
    tx.expect(tx.t("experiment.reflected"))
    [item] = rows(engine, Experiment, tx.person_id)
    assert (item.learned, item.keep_doing) == ("Teaching is learning twice", None)


# -- 4. every item can be reached in the share list -------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_older_items_are_reachable_in_the_share_list_page_by_page(
    chat, engine: Engine, lang: str
) -> None:
    tx = chat(lang)
    total = 2 * SHARE_PAGE_SIZE + 3
    with Session(engine) as db:
        for n in range(total):  # "Item 0" is the oldest
            db.add(
                PlanItem(
                    person_id=tx.person_id,
                    kind="personal",
                    title=f"Item {n}",
                    visibility="manager" if n == 0 else "private",
                    created_at=NOW - timedelta(days=total - n),
                )
            )
        db.commit()
    oldest = rows(engine, PlanItem, tx.person_id)[0]
    tx.send("privacy")
    tx.choose("share")
    more = tx.t("privacy.share_more")
    tx.expect(f"Item {total - 1}", more)
    tx.expect_not("Item 0")
    tx.choose("more")
    tx.expect(f"Item {total - 1 - SHARE_PAGE_SIZE}", more)
    tx.expect_not("Item 0", f"Item {total - 1}:")
    tx.send(word(lang, "more", "meer"))  # typed, the label without its dots
    tx.expect("Item 0", "Item 1")
    tx.expect_not(more)
    tx.choose(f"plan_item:{oldest.id}")
    tx.expect(tx.t("privacy.now_private"), "Item 0")  # the same page again
    assert rows(engine, PlanItem, tx.person_id)[0].visibility == "private"
    tx.choose("first")
    tx.expect(f"Item {total - 1}")
    tx.choose("back")
    tx.expect(tx.t("privacy.what_now"))


# -- 7. the year summary counts conversations --------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_year_summary_counts_reflection_conversations_not_answers(
    chat, clock: Clock, lang: str
) -> None:
    tx = chat(lang)
    rounds = [("a", "b", "c"), ("d", "e", "f"), ("g", "h", "i"), ("j", None, None)]
    rounds.append((None, None, None))  # all skipped: no conversation to count
    skip = word(lang, "skip", "overslaan")
    for answers in rounds:
        clock.now += timedelta(days=3)
        tx.send(word(lang, "reflect", "reflectie"))
        for answer in answers:
            tx.send(f"Answer {answer} about my work" if answer else skip)
        if any(answers):
            tx.choose("nothing")
    tx.send(word(lang, "summary", "vat mijn jaar samen"))
    counted = tx.t("summary.draft.reflections", count=4, topics="§").split("§")[0]
    tx.expect(counted)
    tx.expect_not(tx.t("summary.draft.reflections", count=10, topics="§").split("§")[0])


def test_answers_kept_without_their_conversation_count_once_a_day(chat, engine: Engine) -> None:
    tx = chat("en")
    with Session(engine) as db:
        for n, days_ago in enumerate((40, 40, 40, 12, 12, 3)):  # three days: imported, the demo
            db.add(
                Answer(
                    person_id=tx.person_id,
                    dialog_id="reflection",
                    question_id="dot-on-horizon",
                    competency="motivation",
                    text=f"Answer {n}",
                    created_at=NOW - timedelta(days=days_ago, minutes=n),
                )
            )
        db.commit()
    tx.send("summary")
    tx.expect("You reflected 3 times")


# -- 8. a refused button changes nothing ------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("case", ["missing", "cancelled", "not_mine", "no_such_button"])
def test_a_refused_campaign_button_leaves_the_open_question_open(
    chat, engine: Engine, lang: str, case: str
) -> None:
    add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR)
    if case == "not_mine":
        launch_spec(engine, parse(WEEK))
        tx = chat(lang)  # joined after the launch: not one of its recipients
    else:
        tx = chat(lang)
        launch_spec(engine, parse(WEEK))
    with Session(engine) as db:
        campaign = db.exec(select(Campaign)).one()
        if case == "cancelled":
            cancel(db, campaign, now=NOW)
            db.commit()
        assert campaign.id is not None
        intent = {
            "missing": action_intent(campaign.id + 1, "kickoff", "interested"),
            "no_such_button": action_intent(campaign.id, "kickoff", "dance"),
        }.get(case, action_intent(campaign.id, "kickoff", "interested"))

    tx.send("experiment")
    question = tx.prompt
    tx.press(intent)
    key = "campaigns.reply.ended" if case == "cancelled" else "campaigns.reply.unknown"
    tx.expect(tx.t(key))
    tx.expect_not(tx.t("runtime.put_aside", title=tx.t("experiment.title")))
    assert tx.prompt == question  # the same question, its buttons still valid
    with Session(engine) as db:
        sessions = db.exec(
            select(DialogSession).where(DialogSession.person_id == tx.person_id)
        ).all()
    assert [(s.dialog_id, s.status) for s in sessions] == [("experiment", "active")]
    again = tx.runtime.handle_turn(Turn(person_id=tx.person_id, intent=intent))
    assert again.outcome == Outcome.REJECTED  # channels leave the button's message as it was
    tx.choose("own")
    tx.expect(tx.t("experiment.ask_title"))


# -- 9. time zones: Dutch place names, and no stale clock -------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_the_bots_own_example_place_names_are_understood(chat, lang: str) -> None:
    tx = chat(lang)
    tx.send(word(lang, "settings", "instellingen"))
    tx.choose("timezone")
    tx.send(word(lang, "no", "nee"))
    tx.expect(tx.t("preferences.timezone_ask"))
    tx.send("Londen")
    tx.expect(tx.t("preferences.timezone_set", zone="Europe/London", time="09:30"))
    assert person_row(tx).timezone == "Europe/London"
    for key in ("preferences.timezone_ask", "preferences.timezone_unknown"):
        for place in ("Amsterdam", "London", "Londen", "New York"):
            if place in tx.t(key):
                assert find_timezone(place) is not None, (key, place)


@pytest.mark.parametrize(
    ("place", "zone"),
    [
        ("Brussel", "Europe/Brussels"),
        ("Antwerpen", "Europe/Brussels"),
        ("Parijs", "Europe/Paris"),
        ("Den Haag", "Europe/Amsterdam"),
        ("Keulen", "Europe/Berlin"),
        ("Berlijn", "Europe/Berlin"),
        ("Lissabon", "Europe/Lisbon"),
        ("kopenhagen", "Europe/Copenhagen"),
        ("Wenen", "Europe/Vienna"),
        ("Praag", "Europe/Prague"),
        ("Zürich", "Europe/Zurich"),
        ("Curaçao", "America/Curacao"),
    ],
)
def test_dutch_place_names_give_their_time_zone(chat, place: str, zone: str) -> None:
    tx = chat("nl")
    tx.send("instellingen")
    tx.choose("timezone")
    tx.send("nee")
    tx.send(place)
    tx.expect(zone, tx.t("settings.question", **_any()).splitlines()[0])
    assert person_row(tx).timezone == zone


def _any() -> dict[str, str]:
    return dict.fromkeys(("language", "zone", "frequency", "when", "campaigns"), "")


def test_every_place_in_the_table_has_a_real_zone() -> None:
    from zoneinfo import available_timezones

    assert len(PLACE_NAMES) >= 10
    assert set(PLACE_NAMES.values()) <= available_timezones()


@pytest.mark.parametrize("lang", LANGS)
def test_a_resumed_time_zone_question_shows_no_stale_clock(chat, clock: Clock, lang: str) -> None:
    tx = chat(lang)  # Europe/Amsterdam: 10:30 there at NOW
    tx.send(word(lang, "settings", "instellingen"))
    tx.choose("timezone")
    tx.expect("Europe/Amsterdam", "10:30")
    clock.now += timedelta(hours=3)
    replies = tx.runtime.resume(tx.person_id)
    shown = "\n".join(r.text for r in replies)
    assert "Europe/Amsterdam" in shown and "10:30" not in shown, shown
    assert any(isinstance(r, Prompt) for r in replies)
    tx.send(word(lang, "yes", "ja"))
    tx.expect(tx.t("settings.question", **_any()).splitlines()[0])


def test_a_list_in_the_dialogs_memory_changed_in_place_is_saved(engine: Engine, clock) -> None:
    """The engine's side of item 2: values are copied deeply, so a step that appends to a list
    it finds there changes what is saved (a shallow copy made the change invisible)."""
    from dialogs.engine.content import load_content
    from dialogs.engine.dialog import Ask, Ctx, Dialog, Goto, Next
    from dialogs.engine.replies import TextPrompt, with_ref
    from dialogs.engine.runtime import Runtime
    from dialogs.registry import DIALOGS

    notes = Dialog("notes", version=1, first="note", title="plan.title")

    @notes.step("note")
    def note(ctx: Ctx) -> Next:
        if not ctx.answered:
            return Ask(TextPrompt(text=f"notes: {ctx.values.get('notes')}", retry="again"))
        ctx.values.setdefault("notes", []).append(ctx.answer)
        return Goto("note")

    runtime = Runtime(
        engine, dialogs={**DIALOGS, "notes": notes}, content=load_content(), clock=clock
    )
    tx = Transcript(runtime, add_person(engine, "sam@example.com"))
    with Session(engine) as db:  # the conversation as a first turn leaves it: asked once
        session = DialogSession(person_id=tx.person_id, dialog_id="notes", step="note", seq=1)
        db.add(session)
        db.flush()
        assert session.id is not None
        asked = TextPrompt(text="notes: None", retry="again")
        session.prompt = with_ref(asked, session_id=session.id, step="note", seq=1).to_dict()
        db.commit()
    tx.send("first")
    tx.expect("notes: ['first']")
    tx.send("second")
    tx.send("third")
    tx.expect("notes: ['first', 'second', 'third']")
