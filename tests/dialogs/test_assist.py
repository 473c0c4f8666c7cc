"""The deterministic assistant (what runs with AI assistance off, and the fallback when it is
on), "summarise my year", and the consent question, in both languages."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

import pytest
from sqlmodel import Session, select

from dialogs.engine.assistant import SUMMARY_DIALOG, ContentAssistant, YearItems
from dialogs.engine.content import LANGUAGES, load_content
from dialogs.engine.runtime import Runtime
from dialogs.registry import DIALOGS
from storage.models import Answer, ConsentRecord, Experiment, Person
from tests.dialogs.conftest import NOW, add_person
from tests.dialogs.transcript import Transcript

NO_DB = cast(Session, None)
"""The deterministic assistant never touches the database."""


class ConsentingContent(ContentAssistant):
    """Deterministic, but says AI is on: the dialogs then ask for consent first."""

    ai = True


def person(lang: str = "en") -> Person:
    return Person(id=1, email="sam@example.com", name="Sam", language=lang)


def seed(engine, person_id: int) -> None:
    with Session(engine) as db:
        for n, (competency, text) in enumerate(
            [
                ("motivation", "Fixing the billing bug together"),
                ("motivation", "Helping a new colleague find their way around the codebase"),
                ("networking", "Lunch with the sales team"),
            ]
        ):
            db.add(
                Answer(
                    person_id=person_id,
                    dialog_id="reflection",
                    question_id="time-flies",
                    competency=competency,
                    frame="flow",
                    text=text,
                    created_at=NOW - timedelta(days=10 + n),
                )
            )
        db.add(
            Answer(
                person_id=person_id,
                dialog_id="reflection",
                question_id="time-flies",
                competency="qualities",
                text="TOO-OLD",
                created_at=NOW - timedelta(days=400),
            )
        )
        db.add(
            Experiment(
                person_id=person_id,
                title="Shadow the finance team",
                status="done",
                learned="Numbers tell stories",
                keep_doing="Asking why",
                created_at=NOW - timedelta(days=50),
                updated_at=NOW - timedelta(days=20),
            )
        )
        db.commit()


# -- the deterministic assistant ------------------------------------------------------------


def test_without_ai_there_is_no_follow_up() -> None:
    content = load_content()
    question = content.question("time-flies")
    assert (
        ContentAssistant(content).follow_up(NO_DB, person(), question=question, answer="x") is None
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_fallback_follow_up_fits_the_answer_and_the_question(lang: str) -> None:
    content = load_content()
    assistant = ContentAssistant(content, follow_ups=True)
    q = content.question("time-flies")
    unsure = "I don't know really" if lang == "en" else "Weet ik niet zo goed"

    def ask(answer: str) -> str | None:
        return assistant.follow_up(NO_DB, person(lang), question=q, answer=answer)

    assert ask(unsure) == content.text(lang, "follow_up.unsure")
    assert ask("Meetings") == content.text(lang, "follow_up.short")
    frame = ask("When I rebuilt the invoice export with Kim last week")
    assert frame in {content.text(lang, f"follow_up.frames.flow_{n}") for n in (1, 2)}
    assert frame is not None and frame.endswith("?")


def test_every_question_frame_has_follow_ups_and_every_feature_a_prompt() -> None:
    content = load_content()
    for lang in LANGUAGES:
        for question in content.questions:
            for n in (1, 2):
                assert content.text(lang, f"follow_up.frames.{question.frame}_{n}").endswith("?")
        for feature in ("follow_up", "summary", "digest_opening", "experiment_ideas"):
            assert isinstance(content.prompts[feature]["max_tokens"], int)
            assert content.prompts[feature][lang].strip()
        assert content.prompts["data_note"][lang].strip()


def test_ideas_already_tried_are_not_offered_again() -> None:
    content = load_content()
    tried = [Experiment(person_id=1, title="x", idea_id="shadow-colleague")]
    ideas = ContentAssistant(content).experiment_ideas(
        NO_DB,
        person(),
        profile=[],
        experiments=tried,
    )
    assert "shadow-colleague" not in [i.idea_id for i in ideas]
    assert len(ideas) == len(content.ideas) - 1
    everything = [Experiment(person_id=1, title="x", idea_id=i.id) for i in content.ideas]
    again = ContentAssistant(content).experiment_ideas(
        NO_DB, person(), profile=[], experiments=everything
    )
    assert len(again) == len(content.ideas)  # all tried: the whole list again


def test_the_deterministic_summary_is_built_from_the_items() -> None:
    content = load_content()
    items = YearItems(
        answers=[
            Answer(
                person_id=1,
                dialog_id="reflection",
                question_id="q",
                competency="motivation",
                text="Short",
            ),
            Answer(
                person_id=1,
                dialog_id="reflection",
                question_id="q",
                competency="motivation",
                text="A longer answer",
            ),
        ],
        experiments=[
            Experiment(person_id=1, title="Shadow finance", status="done", learned="Numbers")
        ],
    )
    text = ContentAssistant(content).summary(NO_DB, person(), items)
    assert "2 times" in text and "what drives you" in text
    assert 'Something you wrote: "A longer answer"' in text
    assert "Shadow finance" in text and "Numbers" in text


# -- summarise my year, AI off --------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_summary_with_nothing_yet(chat, lang: str) -> None:
    tx = chat(lang)
    tx.send("summary" if lang == "en" else "vat mijn jaar samen")
    tx.expect(tx.t("summary.nothing_yet"))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_summary_of_the_year_is_shown_first_and_kept_privately(engine, runtime, lang) -> None:
    boss = add_person(engine, "boss@example.com", name="Bea Baas")
    sam = add_person(engine, "sam@example.com", name="Sam Jones", language=lang, manager_id=boss)
    seed(engine, sam)
    tx = Transcript(runtime, sam)
    tx.send("summary" if lang == "en" else "samenvatting")
    tx.expect(tx.t("summary.intro"), "Shadow the finance team", "Numbers tell stories")
    tx.expect(tx.t("summary.draft.topics.motivation"))
    tx.expect_not("TOO-OLD", tx.t("ai.consent").split("\n")[0])
    draft = tx.says()[-1]
    tx.choose("keep")
    tx.expect(tx.t("summary.kept"), tx.t("sharing.offer", manager="Bea"))
    tx.choose("private")
    with Session(engine) as db:
        kept = db.exec(select(Answer).where(Answer.dialog_id == SUMMARY_DIALOG)).all()
    assert [(a.text, a.visibility) for a in kept] == [(draft, "private")]
    tx.send("privacy")
    tx.choose("share")
    tx.expect(tx.t("privacy.kinds.summary"))


def test_a_kept_summary_reads_as_a_summary_to_the_manager(engine, runtime) -> None:
    boss = add_person(engine, "boss@example.com", name="Bea Baas", language="nl")
    sam = add_person(engine, "sam@example.com", name="Sam Jones", manager_id=boss)
    seed(engine, sam)
    tx = Transcript(runtime, sam)
    tx.send("summary")
    tx.choose("edit")
    tx.send("A year of learning by doing")
    tx.choose("share")
    manager = Transcript(runtime, boss)
    manager.send("mijn team")
    manager.expect(manager.t("manager_view.summary", text="A year of learning by doing"))


# -- consent, when the assistant would use AI ------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_consent_is_asked_once_warmly_in_both_languages(engine, clock, lang: str) -> None:
    content = load_content()
    runtime = Runtime(
        engine,
        dialogs=DIALOGS,
        content=content,
        clock=clock,
        assistant=ConsentingContent(content, follow_ups=True),
    )
    tx = Transcript(runtime, add_person(engine, "sam@example.com", language=lang))
    tx.send("reflect")
    tx.expect(tx.t("ai.consent"))
    tx.send("ja" if lang == "nl" else "yes")
    tx.expect(tx.t("ai.consent_given"), "(1/3)")
    tx.send("Ik hielp een klant die vastzat" if lang == "nl" else "I helped a stuck customer")
    assert tx.prompt.text.endswith("?")  # the follow-up
    tx.send("stop")
    tx.send("menu")
    assert "summary" in [o.value for o in tx.prompt.options()]
    tx.send("reflect")
    tx.expect("(1/3)").expect_not(tx.t("ai.consent"))
    with Session(engine) as db:
        assert len(db.exec(select(ConsentRecord).where(ConsentRecord.kind == "ai")).all()) == 1
