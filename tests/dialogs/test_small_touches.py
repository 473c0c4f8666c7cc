"""Small touches of issue 14: a check-in can be changed right after saving (item 11), and a
digest with nothing new says so in one line, without a heading over nothing (item 13)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.channels.console import render_text
from dialogs.engine.content import load_content
from dialogs.engine.replies import Say
from dialogs.nudges.digest import as_replies, compose, due_digests
from storage.models import CheckIn, Experiment, Person
from storage.outbox import OutboxMessage, enqueue
from tests.dialogs.conftest import NOW, add_person
from tests.dialogs.transcript import Transcript

EDIT = {"en": "change my answer", "nl": "mijn antwoord aanpassen"}


def check_ins(engine: Engine, person_id: int) -> list[CheckIn]:
    with Session(engine) as db:
        return list(db.exec(select(CheckIn).where(CheckIn.person_id == person_id)))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_check_in_can_be_changed_right_after_saving(chat, engine: Engine, lang: str) -> None:
    tx = chat(lang)
    with Session(engine) as db:
        db.add(Experiment(person_id=tx.person_id, title="Shadow Finance", created_at=NOW))
        db.commit()
    tx.send("checkin")
    tx.send("2")
    tx.choose("doing")
    tx.send("Book a day")
    tx.expect(tx.t("checkin.thanks"), tx.t("checkin.edit"))
    tx.send(EDIT[lang])  # typed, as the button says
    tx.expect(tx.t("checkin.energy"))
    tx.send("4")
    tx.expect("Shadow Finance")  # the same experiment is asked about again
    tx.choose("done")
    tx.send("Tell the team")
    tx.expect(tx.t("checkin.updated"), tx.t("checkin.reflect_hint"))
    tx.expect_not(tx.t("checkin.thanks"))
    [check_in] = check_ins(engine, tx.person_id)  # updated, not a second one
    assert (check_in.energy, check_in.experiment_status, check_in.next_step) == (
        4,
        "done",
        "Tell the team",
    )
    tx.choose("ok")
    assert check_ins(engine, tx.person_id) == [check_in]


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_change_my_answer_sits_with_the_share_offer(engine: Engine, runtime, lang: str) -> None:
    boss = add_person(engine, "boss@example.com", name="Bea Baas")
    tx = Transcript(runtime, add_person(engine, "sam@example.com", language=lang, manager_id=boss))
    tx.send("checkin")
    tx.send("3")
    tx.send("Ask for feedback")
    assert [o.value for o in tx.prompt.options()] == ["share", "private", "edit"]
    tx.expect(tx.t("sharing.offer", manager="Bea"), tx.t("checkin.edit"))
    tx.choose("edit")
    tx.send("5")
    tx.send("Ask for more feedback")
    tx.expect(tx.t("checkin.updated"), tx.t("sharing.offer", manager="Bea"))
    tx.choose("share")
    tx.expect(tx.t("sharing.shared", manager="Bea"))
    [check_in] = check_ins(engine, tx.person_id)
    assert (check_in.energy, check_in.next_step, check_in.visibility) == (
        5,
        "Ask for more feedback",
        "manager",
    )


def quiet_team(engine: Engine, language: str) -> int:
    """A manager with five reports (enough for team counts) who shared nothing lately."""
    boss = add_person(engine, "boss@example.com", name="Bea Baas", language=language)
    for n in range(5):
        add_person(engine, f"r{n}@example.com", manager_id=boss)
    with Session(engine) as db:  # the previous digest went out a week ago
        enqueue(db, OutboxMessage("digest:last", boss, "digest", NOW - timedelta(days=7), []))
        db.commit()
    return boss


NOTE = {
    "en": "Nothing new from your team since 16 Nov 2026.",
    "nl": "Niets nieuws van je team sinds 16 nov 2026.",
}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_my_team_with_nothing_new_is_one_line(engine: Engine, runtime, lang: str) -> None:
    tx = Transcript(runtime, quiet_team(engine, lang))
    tx.send("my team" if lang == "en" else "mijn team")
    assert [r.text for r in tx.replies] == [NOTE[lang]]
    assert not any(isinstance(r, Say) and r.section for r in tx.replies)
    tx.expect_not(tx.t("digest.starters_heading"))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_digest_with_nothing_new_renders_one_line(engine: Engine, lang: str) -> None:
    boss = quiet_team(engine, lang)
    content = load_content()
    with Session(engine, expire_on_commit=False) as db:
        manager = db.get(Person, boss)
        assert manager is not None
        digest = compose(db, content, manager, now=NOW, min_group=5, audited=False)
    replies = as_replies(content, digest)
    assert [render_text(r) for r in replies] == [NOTE[lang]]
    assert digest.team is not None  # the counts alone are no news: not shown
    with Session(engine) as db:
        quiet = due_digests(db, content, now=NOW, min_group=5)
        noted = due_digests(db, content, now=NOW, min_group=5, nothing_new_note=True)
    [skipped] = [d for d in quiet if d.person_id == boss]
    assert skipped.skipped
    [note] = [d for d in noted if d.person_id == boss]
    assert not note.skipped
    assert [part["text"] for part in note.payload] == [NOTE[lang]]
