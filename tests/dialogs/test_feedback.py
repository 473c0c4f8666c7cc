"""Feedback from colleagues: asking, answering, postponing, declining — and who sees what."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, select

from dialogs.flows.feedback import REQUEST_KIND
from storage.models import (
    AuditEntry,
    FeedbackAsk,
    FeedbackRequest,
    FeedbackState,
    Outbound,
    Person,
)
from storage.personal_data import export_person, forget_person
from tests.dialogs.conftest import NOW, add_person
from tests.dialogs.transcript import Transcript


def team(engine, lang: str) -> dict[str, int]:
    """Sam and three colleagues under one manager (Bo reads Dutch), and HR."""
    ids = {"manager": add_person(engine, "mia@example.com", name="Mia Manager", language=lang)}
    ids["sam"] = add_person(
        engine, "sam@example.com", name="Sam Smit", language=lang, manager_id=ids["manager"]
    )
    for key, name, language in (
        ("ana", "Ana Jansen", "en"),
        ("bo", "Bo de Vries", "nl"),
        ("cy", "Cy Peters", "en"),
    ):
        ids[key] = add_person(
            engine,
            f"{key}@example.com",
            name=name,
            language=language,
            manager_id=ids["manager"],
        )
    ids["hr"] = add_person(engine, "hr@example.com", name="Hanna HR", role="hr", language=lang)
    return ids


def rows(engine, model, *where):
    with Session(engine) as db:
        return list(db.exec(select(model).where(*where).order_by(col(model.id))))


def request_feedback(runtime, ids, *, anonymous: bool) -> Transcript:
    sam = Transcript(runtime, ids["sam"])
    sam.send("feedback")
    sam.expect(sam.t("feedback.intro"), sam.t("feedback.ask_topic"))
    sam.send("How I chair our Monday meeting")
    sam.expect("Ana Jansen", "Bo de Vries", "Cy Peters", "Mia Manager")
    sam.choose(str(ids["ana"]))
    sam.expect(sam.t("feedback.added", name="Ana Jansen"), sam.t("feedback.ask_more", count=2))
    sam.choose(str(ids["bo"]))
    sam.choose(str(ids["cy"]))
    sam.expect(sam.t("feedback.ask_anonymous", count=3))
    sam.choose("anonymous" if anonymous else "named")
    sam.expect(
        sam.t("feedback.preview", names="Ana Jansen, Bo de Vries, Cy Peters"),
        "How I chair our Monday meeting",
        sam.t("feedback.ask_send"),
    )
    sam.choose("yes")
    sam.expect(sam.t("feedback.sent", names="Ana, Bo, Cy"))
    return sam


def ask_of(engine, colleague_id: int) -> FeedbackAsk:
    [ask] = rows(engine, FeedbackAsk, FeedbackAsk.colleague_id == colleague_id)
    return ask


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_ask_answer_postpone_decline_and_only_the_requester_reads(
    engine, runtime, lang: str
) -> None:
    ids = team(engine, lang)
    sam = request_feedback(runtime, ids, anonymous=False)

    # each colleague gets the request in their own language, with three buttons
    sent = {r.person_id: r for r in rows(engine, Outbound, Outbound.kind == REQUEST_KIND)}
    assert set(sent) == {ids["ana"], ids["bo"], ids["cy"]}
    bo_text = sent[ids["bo"]].payload[0]["text"]
    assert "Sam Smit" in bo_text and "feedback" in bo_text and "Monday meeting" in bo_text
    assert sent[ids["bo"]].payload[0]["about"] == [ids["sam"]]
    ana_ask, bo_ask, cy_ask = (ask_of(engine, ids[k]) for k in ("ana", "bo", "cy"))
    assert [a[0] for a in sent[ids["ana"]].payload[0]["actions"]] == [
        f"feedback_reply:{ana_ask.id}:give",
        f"feedback_reply:{ana_ask.id}:later",
        f"feedback_reply:{ana_ask.id}:decline",
    ]

    ana = Transcript(runtime, ids["ana"])
    ana.press(f"feedback_reply:{ana_ask.id}:give")
    ana.expect(ana.t("feedback.reply.ask", first="Sam", topic="How I chair our Monday meeting"))
    ana.send("You keep it short and give everyone a turn.")
    ana.expect(ana.t("feedback.reply.thanks", first="Sam"))
    ana.press(f"feedback_reply:{ana_ask.id}:give")  # an old button: answered already
    ana.expect(ana.t("feedback.reply.closed"))

    bo = Transcript(runtime, ids["bo"])
    bo.press(f"feedback_reply:{bo_ask.id}:later")
    bo.expect(bo.t("feedback.reply.later", first="Sam"))
    bo.press(f"feedback_reply:{bo_ask.id}:later")
    bo.expect(bo.t("feedback.reply.once"))
    [reminder] = rows(engine, Outbound, Outbound.idempotency_key == f"feedback:{bo_ask.id}:later")
    assert reminder.person_id == ids["bo"] and reminder.not_before > NOW
    assert [a[0] for a in reminder.payload[0]["actions"]] == [
        f"feedback_reply:{bo_ask.id}:give",
        f"feedback_reply:{bo_ask.id}:decline",
    ]  # one reminder at most: no "later" on it

    cy = Transcript(runtime, ids["cy"])
    cy.press(f"feedback_reply:{cy_ask.id}:decline")
    cy.expect(cy.t("feedback.reply.declined", first="Sam"))
    assert ask_of(engine, ids["cy"]).state == FeedbackState.DECLINED
    assert ask_of(engine, ids["cy"]).answer is None

    # Sam heard that Ana answered, never that Cy said no
    notes = rows(engine, Outbound, Outbound.person_id == ids["sam"])
    assert len(notes) == 1 and "Ana Jansen" in notes[0].payload[0]["text"]
    sam.send("feedback")
    sam.expect("1")
    sam.choose("read")
    [request] = rows(engine, FeedbackRequest)
    sam.choose(str(request.id))
    sam.expect("Ana Jansen: You keep it short and give everyone a turn.")
    sam.expect_not("Cy Peters", "Bo de Vries")

    # someone else pressing Ana's button gets nothing
    cy.press(f"feedback_reply:{ana_ask.id}:give")
    cy.expect(cy.t("feedback.reply.unknown")).expect_not("Monday")

    # the manager sees nothing until Sam shares it; HR never
    mia = Transcript(runtime, ids["manager"])
    mia.send("feedback")
    mia.choose("shared")
    mia.expect(mia.t("feedback.nothing_shared")).expect_not("everyone a turn")
    hr = Transcript(runtime, ids["hr"])
    hr.send("feedback")
    hr.expect_not("everyone a turn", "Monday")
    assert request.visibility == "private"
    assert not rows(engine, AuditEntry, AuditEntry.action == "feedback_read")

    sam.choose("share")
    sam.expect(sam.t("feedback.did_share", manager="Mia"))
    mia.send("feedback")
    mia.choose("shared")
    mia.expect("Sam Smit", "Ana Jansen: You keep it short and give everyone a turn.")
    [read] = rows(engine, AuditEntry, AuditEntry.action == "feedback_read")
    assert (read.actor_id, read.subject_id) == (ids["manager"], ids["sam"])


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_anonymous_answers_show_without_names_once_three_answered(
    engine, runtime, lang: str
) -> None:
    ids = team(engine, lang)
    sam = request_feedback(runtime, ids, anonymous=True)
    [request] = rows(engine, FeedbackRequest)
    assert request.anonymous
    for n, key in enumerate(("ana", "bo")):
        tx = Transcript(runtime, ids[key])
        tx.press(f"feedback_reply:{ask_of(engine, ids[key]).id}:give")
        tx.send(f"Answer number {n} from a colleague")
    sam.send("feedback")
    sam.choose("read")
    sam.choose(str(request.id))
    sam.expect(sam.t("feedback.held", answered=2, count=3)).expect_not("Answer number")

    cy = Transcript(runtime, ids["cy"])
    cy.press(f"feedback_reply:{ask_of(engine, ids['cy']).id}:give")
    cy.send("Answer number 2 from a colleague")
    sam.send("feedback")
    sam.choose("read")
    sam.choose(str(request.id))
    sam.expect("Answer number 0", "Answer number 1", "Answer number 2")
    sam.expect_not("Ana", "Bo de Vries", "Cy")
    notes = rows(engine, Outbound, Outbound.person_id == ids["sam"])
    assert all("about" not in n.payload[0] for n in notes)
    assert not any(name in str(n.payload) for n in notes for name in ("Ana", "Bo de", "Cy P"))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_typed_colleagues_unknown_and_ambiguous_names(engine, runtime, lang: str) -> None:
    ids = team(engine, lang)
    add_person(engine, "ana.b@example.com", name="Ana Bakker", department="Finance")
    sam = Transcript(runtime, ids["sam"])
    sam.send("feedback")
    sam.send("My listening")
    sam.choose("typed")
    sam.send("Zorro")
    sam.expect(sam.t("feedback.nobody_found", typed="Zorro"), sam.t("feedback.ask_name"))
    sam.send("ana")
    sam.expect(sam.t("feedback.ask_which"), "Ana Bakker (Finance)", "Ana Jansen")
    sam.choose(str(ids["ana"]))
    sam.expect(sam.t("feedback.added", name="Ana Jansen"))
    sam.choose("typed")
    sam.send("CY@example.com")
    sam.expect(sam.t("feedback.added", name="Cy Peters"))
    sam.choose("done")  # two colleagues: named, no anonymity question
    sam.expect(sam.t("feedback.ask_send")).expect_not(sam.t("feedback.ask_anonymous", count=3))
    sam.choose("no")
    sam.expect(sam.t("feedback.not_sent"))
    assert not rows(engine, FeedbackRequest) and not rows(engine, Outbound)


def test_forgetting_the_colleague_or_the_requester(engine, runtime) -> None:
    ids = team(engine, "en")
    request_feedback(runtime, ids, anonymous=False)
    ana = Transcript(runtime, ids["ana"])
    ana.press(f"feedback_reply:{ask_of(engine, ids['ana']).id}:give")
    ana.send("SECRET-ANA-ANSWER")
    with Session(engine) as db:
        exported = export_person(db, db.get(Person, ids["ana"]), now=NOW)
        assert [a["answer"] for a in exported["feedback_ask"]] == ["SECRET-ANA-ANSWER"]
        assert exported.get("feedback_request") == []
        theirs = export_person(db, db.get(Person, ids["sam"]), now=NOW)
        assert len(theirs["feedback_request"]) == 1 and len(theirs["feedback_ask"]) == 3

        forget_person(db, db.get(Person, ids["ana"]))
        db.commit()
    # Ana's answer, and the note naming her, are gone; Sam keeps the request
    assert not rows(engine, FeedbackAsk, FeedbackAsk.colleague_id == ids["ana"])
    assert "Ana" not in str([r.payload for r in rows(engine, Outbound)])
    assert len(rows(engine, FeedbackRequest)) == 1

    with Session(engine) as db:
        forget_person(db, db.get(Person, ids["sam"]))
        db.commit()
    assert not rows(engine, FeedbackRequest) and not rows(engine, FeedbackAsk)
    # the requests still waiting with Bo and Cy no longer show Sam's request
    for row in rows(engine, Outbound):
        assert "Sam" not in str(row.payload) and "Monday" not in str(row.payload)


def test_the_colleague_gets_at_most_one_request_a_half_day(engine, runtime) -> None:
    """Calm applies to the colleague: a second request the same morning waits its turn."""
    ids = team(engine, "en")
    request_feedback(runtime, ids, anonymous=False)
    sam = Transcript(runtime, ids["sam"])
    sam.send("feedback")
    sam.choose("new")
    sam.send("My writing")
    sam.choose(str(ids["ana"]))
    sam.choose("done")
    sam.choose("yes")
    first, second = rows(engine, Outbound, Outbound.person_id == ids["ana"])
    assert first.not_before == NOW
    assert second.not_before >= NOW.replace(hour=12)  # the afternoon (13:00 Amsterdam) or later
