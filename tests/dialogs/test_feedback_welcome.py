"""A colleague Regie never welcomed: the feedback request says in one line who is writing, and
the welcome is offered after their answer (never pushed before it). And "who has seen my
data" names what was read: shared feedback, a story HR read, a refused attempt."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from dialogs.engine.replies import Prompt
from dialogs.flows.feedback import REQUEST_KIND
from storage import stories
from storage.feedback import FEEDBACK_READ
from storage.models import Outbound, Person
from storage.privacy import Reader, record_reads
from storage.refusals import record_refused
from tests.dialogs.conftest import NOW, add_person
from tests.dialogs.test_feedback import ask_of, request_feedback, rows, team
from tests.dialogs.transcript import Transcript


def unwelcome(engine, *person_ids: int) -> None:
    with Session(engine) as db:
        for person_id in person_ids:
            person = db.get(Person, person_id)
            assert person is not None
            person.welcomed_at = None
            db.add(person)
        db.commit()


def welcomed(engine, person_id: int) -> bool:
    with Session(engine) as db:
        person = db.get(Person, person_id)
        return person is not None and person.welcomed_at is not None


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_colleague_never_welcomed_is_told_who_asks_and_offered_the_welcome_after(
    engine, runtime, lang: str
) -> None:
    ids = team(engine, lang)
    unwelcome(engine, ids["ana"], ids["bo"])  # Cy already knows Regie
    request_feedback(runtime, ids, anonymous=False)
    sent = {r.person_id: r.payload[0]["text"] for r in rows(engine, Outbound)}
    content = runtime.content
    assert content.text("en", "feedback.request.intro") in sent[ids["ana"]]
    assert content.text("nl", "feedback.request.intro") in sent[ids["bo"]]  # Bo reads Dutch
    assert content.text("en", "feedback.request.intro") not in sent[ids["cy"]]
    assert all(r.kind == REQUEST_KIND for r in rows(engine, Outbound))

    ana = Transcript(runtime, ids["ana"])
    ana.press(f"feedback_reply:{ask_of(engine, ids['ana']).id}:give")  # no welcome first
    ana.expect(ana.t("feedback.reply.ask", first="Sam", topic="How I chair our Monday meeting"))
    ana.send("You keep it short.")
    ana.expect(ana.t("feedback.reply.thanks", first="Sam"), ana.t("feedback.reply.meet"))
    ana.choose("yes")
    ana.expect("I'm Regie")  # the welcome itself, from its first words
    assert welcomed(engine, ids["ana"])
    assert ask_of(engine, ids["ana"]).answer == "You keep it short."

    bo = Transcript(runtime, ids["bo"])
    bo.press(f"feedback_reply:{ask_of(engine, ids['bo']).id}:give")
    bo.send("Goed voorbereid.")
    bo.expect(bo.t("feedback.reply.meet"))
    bo.choose("no")
    bo.expect(bo.t("feedback.reply.meet_later"))
    assert not welcomed(engine, ids["bo"])
    bo.send("hoi")  # whenever they write, the welcome comes first
    bo.expect("Regie")
    assert welcomed(engine, ids["bo"])

    cy = Transcript(runtime, ids["cy"])
    cy.press(f"feedback_reply:{ask_of(engine, ids['cy']).id}:give")
    cy.send("Clear agenda.")
    cy.expect(cy.t("feedback.reply.thanks", first="Sam")).expect_not(cy.t("feedback.reply.meet"))
    assert not any(isinstance(r, Prompt) for r in cy.replies)  # nothing more asked


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_who_has_seen_my_data_says_what_was_read(engine, runtime, lang: str) -> None:
    sam_id = add_person(engine, "sam@example.com", name="Sam Smit", language=lang)
    mia_id = add_person(engine, "mia@example.com", name="Mia Manager")
    hr_id = add_person(engine, "hr@example.com", name="Hanna HR", role="hr")
    eve_id = add_person(engine, "eve@example.com", name="Eve Else")
    with Session(engine) as db:
        sam, mia, hr = (db.get(Person, i) for i in (sam_id, mia_id, hr_id))
        assert sam is not None and mia is not None and hr is not None
        stories.create(
            db,
            author=sam,
            experiment_id=None,
            title="Help desk morning",
            tried="Listened in",
            learned="Fewer forms",
            for_hr=True,
            in_channel=False,
            now=NOW,
        )
        stories.for_hr(db, reader=Reader.of(hr), now=NOW)  # HR reads it: audited
        record_reads(db, reader=Reader.of(mia), subjects=[sam_id], at=NOW, action=FEEDBACK_READ)
        record_refused(db, actor_id=eve_id, subject_id=sam_id, at=NOW, where="/people/1")
        db.commit()
    sam_chat = Transcript(runtime, sam_id)
    sam_chat.send("privacy")
    sam_chat.choose("seen")
    sam_chat.expect(
        "Hanna HR",
        sam_chat.t("privacy.seen_what.story_read"),
        "Mia Manager",
        sam_chat.t("privacy.seen_what.feedback_read"),
        "Eve Else",
        sam_chat.t("privacy.seen_what.refused_read"),
    )
