from __future__ import annotations

import itertools

import pytest
from sqlmodel import Session, select

from dialogs.engine.content import COMPETENCIES, FRAMES, load_content
from storage.models import Answer, Experiment
from tests.dialogs.transcript import Transcript


def answers(tx: Transcript) -> list[Answer]:
    with Session(tx.runtime.engine) as db:
        return list(
            db.exec(select(Answer).where(Answer.person_id == tx.person_id).order_by(Answer.id))
        )


def asked_questions(tx: Transcript) -> list[str]:
    bank = {q.text[tx.lang]: q.id for q in tx.content.questions}
    ids = []
    for line in tx.log:
        for text, qid in bank.items():
            if line.startswith("< (") and text in line:
                ids.append(qid)
    return ids


def test_question_bank_covers_all_competencies_and_frames() -> None:
    content = load_content()
    for competency in COMPETENCIES:
        assert sum(q.competency == competency for q in content.questions) >= 5, competency
    for frame in FRAMES:
        assert any(q.frame == frame for q in content.questions), frame
    ids = {q.id for q in content.questions}
    assert {"dot-on-horizon", "half-year-off"} <= ids
    assert len(ids) == len(content.questions)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_reflection_saves_private_answers_and_offers_an_experiment(chat, lang: str) -> None:
    tx = chat(lang)
    tx.send("reflect" if lang == "en" else "reflectie")
    tx.expect(tx.t("reflection.intro", count=3), "(1/3)")
    tx.send("Helping a customer who was stuck 🙂")
    tx.expect("(2/3)")
    tx.send("overslaan" if lang == "nl" else "skip")
    tx.expect("(3/3)")
    tx.send("Leading a small project, one day")
    tx.expect(tx.t("reflection.thanks"), tx.t("reflection.insight"))

    saved = answers(tx)
    assert [a.text for a in saved] == [
        "Helping a customer who was stuck 🙂",
        "Leading a small project, one day",
    ]
    assert all(a.visibility == "private" and a.in_aggregates for a in saved)
    assert len({a.competency for a in saved}) == 2  # different competencies per question

    tx.choose("experiment")
    tx.expect(tx.t("experiment.source"))


def test_rotation_never_repeats_the_previous_round(chat) -> None:
    tx = chat("en")
    rounds: list[list[str]] = []
    for _ in range(4):
        tx.log.clear()
        tx.send("reflect")
        for n in range(3):
            tx.send(f"answer {n}")
        tx.choose("nothing")
        rounds.append(asked_questions(tx))
    for previous, current in itertools.pairwise(rounds):
        assert len(current) == 3
        assert not set(previous) & set(current), (previous, current)
    # the least recently practised competencies come first: four rounds of 3 cover all six
    bank = {q.id: q.competency for q in tx.content.questions}
    assert {bank[q] for r in rounds[:2] for q in r} == set(COMPETENCIES)


def test_skipping_everything_is_fine(chat) -> None:
    tx = chat("en")
    tx.send("reflect")
    for _ in range(3):
        tx.send("skip")
    tx.expect(tx.t("reflection.all_skipped"))
    assert answers(tx) == []


def test_reflection_to_plan_item(chat) -> None:
    tx = chat("en")
    tx.send("reflect")
    for n in range(3):
        tx.send(f"answer {n}")
    tx.choose("plan")
    tx.expect(tx.t("plan.ask_kind"))
    with Session(tx.runtime.engine) as db:
        assert db.exec(select(Experiment)).all() == []
