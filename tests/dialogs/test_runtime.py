"""Runtime guarantees: intents in any state, stale clicks, bad input, restarts, redelivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from dialogs.engine.content import load_content
from dialogs.engine.runtime import Handled, Outcome, Runtime
from dialogs.engine.text import MAX_TEXT_CHARS
from dialogs.engine.turn import Action, Turn
from dialogs.registry import DIALOGS
from storage.models import Answer, DialogSession, ProcessedInbound
from tests.dialogs.transcript import Transcript


def active_session(engine, person_id) -> DialogSession | None:
    with Session(engine) as db:
        return db.exec(
            select(DialogSession).where(
                DialogSession.person_id == person_id, DialogSession.status == "active"
            )
        ).first()


@pytest.mark.parametrize(("lang", "word"), [("en", "help"), ("nl", "hulp"), ("nl", "HELP!")])
def test_help_in_the_middle_keeps_the_question_open(chat, lang, word) -> None:
    tx = chat(lang)
    tx.send("checkin")
    before = active_session(tx.runtime.engine, tx.person_id)
    tx.send(word)
    tx.expect(tx.t("runtime.help").splitlines()[0], tx.t("checkin.energy"))
    after = active_session(tx.runtime.engine, tx.person_id)
    assert (after.id, after.step, after.seq) == (before.id, before.step, before.seq)
    tx.send("3")
    tx.expect(tx.t("checkin.energy_reply"))


@pytest.mark.parametrize(("lang", "word"), [("en", "cancel"), ("nl", "stop"), ("nl", "laat maar")])
def test_stop_ends_the_conversation_but_keeps_answers(chat, lang, word) -> None:
    tx = chat(lang)
    tx.send("reflect")
    tx.send("First answer")
    tx.send(word)
    tx.expect(tx.t("runtime.cancelled"))
    assert active_session(tx.runtime.engine, tx.person_id) is None
    with Session(tx.runtime.engine) as db:
        assert [a.text for a in db.exec(select(Answer))] == ["First answer"]
    tx.send(word)
    tx.expect(tx.t("runtime.nothing_to_cancel"))


def test_an_entry_point_puts_the_current_conversation_aside(chat) -> None:
    tx = chat("en")
    tx.send("reflect")
    tx.send("plan")
    tx.expect(tx.t("runtime.put_aside", title=tx.t("reflection.title")), tx.t("plan.empty"))


def test_unknown_text_without_conversation_shows_the_menu(chat) -> None:
    tx = chat("en")
    tx.send("what is this?")
    tx.expect(tx.t("menu.options.reflection"), tx.t("menu.options.privacy"))
    tx.send("8")  # menu by number: "More…"
    tx.expect(tx.t("menu.more_question"), tx.t("menu.options.growth"))
    tx.send("4")  # and on its page: settings
    tx.expect(tx.t("settings.options.language"))


def test_a_click_on_an_old_message_is_stale_and_changes_nothing(chat) -> None:
    tx = chat("en")
    tx.send("plan")
    old = tx.prompt
    tx.choose("add")
    tx.choose("personal")
    state = active_session(tx.runtime.engine, tx.person_id)
    # the same "add" button clicked again, from the old message
    tx.send(action=Action(value="add", session_id=old.session_id, step=old.step, seq=old.seq))
    tx.expect(tx.t("runtime.stale"), tx.t("plan.ask_title.personal"))
    again = active_session(tx.runtime.engine, tx.person_id)
    assert (again.step, again.seq, again.values) == (state.step, state.seq, state.values)
    # a click belonging to a conversation that was closed
    tx.send("stop")
    tx.send(action=Action(value="add", session_id=old.session_id, step=old.step, seq=old.seq))
    tx.expect(tx.t("runtime.stale"))


def test_a_redelivered_event_is_handled_once(chat) -> None:
    tx = chat("en")
    tx.send("reflect", inbound_id="slack:Ev1")
    first = tx.text
    assert tx.send("reflect", inbound_id="slack:Ev1") == []
    tx.send("an answer", inbound_id="slack:Ev2")
    assert tx.send("an answer", inbound_id="slack:Ev2") == []
    with Session(tx.runtime.engine) as db:
        assert len(db.exec(select(Answer)).all()) == 1
        assert len(db.exec(select(ProcessedInbound)).all()) == 2
    assert "(1/3)" in first


BAD_INPUTS = [
    "",
    "   \n\t ",
    "😀👩‍👩‍👧‍👦🏳️‍🌈",
    "مرحبا، أريد أن أتعلم القيادة",
    "<script>alert(1)</script> *bold* _it_ <!channel> <@U123>",
    "\x00\x1b[31mred\x07\x08",
    "\u202eevil\u202c",
    "x" * 20_000,
]


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
@pytest.mark.parametrize("dialog", ["checkin", "plan", "reflect", "experiment"])
def test_bad_input_never_crashes_and_loses_nothing(chat, text, dialog) -> None:
    tx = chat("en")
    tx.send(dialog)
    before = active_session(tx.runtime.engine, tx.person_id)
    tx.send(text)
    assert tx.replies, "every message gets an answer"
    after = active_session(tx.runtime.engine, tx.person_id)
    assert after is not None and after.id == before.id
    if len(text) > MAX_TEXT_CHARS:
        tx.expect(tx.t("runtime.too_long", limit=f"{MAX_TEXT_CHARS:,}"))
        assert (after.step, after.seq) == (before.step, before.seq)


def test_control_characters_are_stripped_and_emoji_kept(chat) -> None:
    tx = chat("en")
    tx.send("reflect")
    tx.send("\x1b[31mI\x00 love \u202eteaching\x07 👩‍🏫 <b>")
    with Session(tx.runtime.engine) as db:
        [answer] = db.exec(select(Answer)).all()
    assert answer.text == "[31mI love teaching 👩‍🏫 <b>"


def test_empty_message_to_a_choice_is_reasked(chat) -> None:
    tx = chat("en")
    tx.send("plan")
    tx.send("")
    tx.expect(tx.t("retry.choice"), tx.t("plan.what_now"))


def test_restart_between_any_two_turns_continues_where_it_stood(engine, clock, person) -> None:
    """A new Runtime (a new process) on the same database file picks the conversation up."""
    script = ["experiment", "own", "Host a brown-bag lunch", "To practise presenting", "2026-12-10"]
    for cut in range(1, len(script)):
        person_id = person(f"p{cut}@example.com")
        before = Transcript(
            Runtime(engine, dialogs=DIALOGS, content=load_content(), clock=clock), person_id
        )
        for line in script[:cut]:
            before.send(line)
        fresh = Runtime(engine, dialogs=DIALOGS, content=load_content(), clock=clock)
        resumed = fresh.resume(person_id)
        assert resumed[-1] == before.prompt, f"after {cut} turns the same question is open"
        tx = Transcript(fresh, person_id)
        for line in script[cut:]:
            tx.send(line)
        tx.expect("Host a brown-bag lunch", "10 Dec 2026")
    with Session(engine) as db:
        from storage.models import Experiment

        assert len(db.exec(select(Experiment)).all()) == len(script) - 1


def test_an_expired_conversation_is_not_continued(chat, clock) -> None:
    tx = chat("en")
    tx.send("plan")
    clock.now += timedelta(days=30)
    tx.send("1")
    tx.expect(tx.t("menu.question", greeting="Good morning", name="Sam"))  # a fresh start


def test_a_dialog_that_changed_shape_starts_fresh(chat, engine) -> None:
    tx = chat("en")
    tx.send("plan")
    with Session(engine) as db:
        session = db.exec(select(DialogSession).where(DialogSession.status == "active")).one()
        session.dialog_version = 0
        db.add(session)
        db.commit()
    tx.send("1")
    tx.expect(tx.t("menu.question", greeting="Good morning", name="Sam"))


def test_an_intent_word_that_is_also_an_option_answers_the_question(chat) -> None:
    tx = chat("en")
    tx.send("plan")
    tx.choose("add")
    tx.send("team")  # "team" is an intent (the team digest) and an option here
    tx.expect(tx.t("plan.ask_title.team"))
    tx.send("settings")  # not an option of a free-text question: the intent wins
    tx.expect(tx.t("settings.options.language"))


def test_a_channels_writes_with_the_turn_commit_with_it(chat) -> None:
    """``handle_turn_and``: what the channel writes in ``then`` is committed in the turn's
    transaction, and ``then`` sees how the turn went."""
    tx = chat("en")
    tx.send("reflect")
    seen: list[Outcome] = []

    def then(db: Session, handled: Handled) -> str:
        seen.append(handled.outcome)
        db.add(ProcessedInbound(inbound_id="teams:written-with-the-turn"))
        return "settled"

    turn = Turn(person_id=tx.person_id, text="First answer", inbound_id="teams:c:1")
    handled, result = tx.runtime.handle_turn_and(turn, then)
    assert (handled.outcome, result, seen) == (Outcome.HANDLED, "settled", [Outcome.HANDLED])
    assert "(2/3)" in handled.replies[-1].text
    with Session(tx.runtime.engine) as db:
        assert [a.text for a in db.exec(select(Answer))] == ["First answer"]
        keys = set(db.exec(select(ProcessedInbound.inbound_id)))
        assert {"teams:c:1", "teams:written-with-the-turn"} <= keys


def test_a_channels_failure_with_the_turn_loses_the_whole_turn_and_a_redelivery_runs_it(
    chat,
) -> None:
    """When ``then`` fails, nothing of the turn is committed (not its answer, not its inbound
    claim): the platform's redelivery of the same message runs it as if the first never came."""
    tx = chat("en")
    tx.send("reflect")
    asked = tx.prompt

    def fails(db: Session, handled: Handled) -> None:
        db.add(ProcessedInbound(inbound_id="teams:half-written"))
        db.flush()
        raise RuntimeError("the channel's write failed")

    turn = Turn(person_id=tx.person_id, text="First answer", inbound_id="teams:c:2")
    with pytest.raises(RuntimeError):
        tx.runtime.handle_turn_and(turn, fails)
    with Session(tx.runtime.engine) as db:
        assert db.exec(select(Answer)).all() == []
        assert db.exec(select(ProcessedInbound.inbound_id)).all() == []
    assert tx.runtime.resume(tx.person_id)[-1] == asked  # the same question is still open
    handled = tx.runtime.handle_turn(turn)
    assert handled.outcome == Outcome.HANDLED and "(2/3)" in handled.replies[-1].text
    with Session(tx.runtime.engine) as db:
        assert [a.text for a in db.exec(select(Answer))] == ["First answer"]
