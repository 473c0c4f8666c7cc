from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from storage.models import Answer, AuditEntry, DialogSession, Experiment, Person, PlanItem
from tests.dialogs.conftest import NOW, add_person


@pytest.fixture
def team(engine):
    """A manager (Dutch) with one report who has a shared and a private item."""
    boss = add_person(engine, "boss@example.com", language="nl", name="Bea Baas")
    with Session(engine) as db:
        sam = Person(email="sam@example.com", name="Sam Jones", manager_id=boss, welcomed_at=NOW)
        db.add(sam)
        db.flush()
        db.add(
            Experiment(
                person_id=sam.id,
                title="Shadow the finance team",
                status="done",
                learned="Invoices are hard",
                visibility="manager",
                created_at=NOW,
            )
        )
        db.add(Experiment(person_id=sam.id, title="Secret side quest", created_at=NOW))
        db.add(
            Answer(
                person_id=sam.id,
                dialog_id="reflection",
                question_id="dot-on-horizon",
                text="Run my own team",
                created_at=NOW,
            )
        )
        db.commit()
        return sam.id


def test_manager_view_shows_exactly_the_shared_items_in_the_owners_language(runtime, team) -> None:
    """Sam reads English; Bea, the manager, reads Dutch: Sam's preview is in English and says
    that Bea reads it in Dutch (issue 16)."""
    from tests.dialogs.transcript import Transcript

    tx = Transcript(runtime, team)
    tx.send("privacy")
    tx.expect("1", "3")  # shared 1 of 3
    tx.choose("manager_view")
    tx.expect(
        "Bea Baas",
        "Shadow the finance team",
        "Invoices are hard",
        "What Sam Jones has shared",
        "Bea reads this in Dutch.",
    )
    tx.expect_not("Wat Sam Jones heeft gedeeld")
    tx.expect_not("Secret side quest", "Run my own team")


def test_sharing_an_item_and_the_default_applies_to_new_items_only(runtime, engine, team) -> None:
    from tests.dialogs.transcript import Transcript

    tx = Transcript(runtime, team)
    tx.send("privacy")
    tx.choose("share")
    tx.expect("🔒", "👁", "Run my own team")
    with Session(engine) as db:
        answer = db.exec(select(Answer)).one()
    tx.choose(f"answer:{answer.id}")
    tx.expect(tx.t("privacy.now_manager"))
    tx.choose("back")
    tx.choose("manager_view")
    tx.expect("Run my own team")

    tx.choose("default")
    tx.choose("manager")
    tx.expect(tx.t("privacy.default_set", visibility=tx.t("privacy.visibility.manager")))
    with Session(engine) as db:
        still_private = db.exec(
            select(Experiment).where(Experiment.title == "Secret side quest")
        ).one()
        assert still_private.visibility == "private"  # nothing shared retroactively
    tx.choose("done")
    tx.send("plan")
    tx.choose("add")
    tx.choose("personal")
    tx.send("Learn to give a presentation")
    tx.send("skip")
    with Session(engine) as db:
        assert db.exec(select(PlanItem)).one().visibility == "manager"


def test_no_one_elses_items_can_be_toggled(runtime, engine, team) -> None:
    from dialogs.engine.turn import Action
    from tests.dialogs.transcript import Transcript

    other = add_person(engine, "other@example.com")
    with Session(engine) as db:
        theirs = Answer(
            person_id=other, dialog_id="reflection", question_id="x", text="mine", created_at=NOW
        )
        db.add(theirs)
        db.commit()
        theirs_id = theirs.id
    tx = Transcript(runtime, team)
    tx.send("privacy")
    tx.choose("share")
    prompt = tx.prompt
    tx.send(
        action=Action(
            value=f"answer:{theirs_id}",
            session_id=prompt.session_id,
            step=prompt.step,
            seq=prompt.seq,
        )
    )
    tx.expect(tx.t("retry.choice"))  # not one of the offered items
    with Session(engine) as db:
        assert db.get(Answer, theirs_id).visibility == "private"


def test_opt_out_of_aggregates_and_pause(runtime, engine, team) -> None:
    from tests.dialogs.transcript import Transcript

    tx = Transcript(runtime, team)
    tx.send("privacy")
    tx.choose("aggregates")
    tx.expect("5")
    tx.send("yes")
    tx.expect(tx.t("privacy.opted_out"))
    tx.choose("pause")
    tx.send("yesterday")
    tx.expect(tx.t("retry.date"))
    tx.send("2026-11-01")
    tx.expect(tx.t("privacy.pause_in_past"))
    tx.send("2027-01-10")
    tx.expect(tx.t("privacy.paused", date="10 Jan 2027"))
    with Session(engine) as db:
        person = db.get(Person, team)
        assert person.in_aggregates is False
        assert person.nudge_paused_until.isoformat() == "2027-01-10"
    tx.choose("done")
    tx.send("resume")
    tx.expect(tx.t("runtime.resumed"))
    with Session(engine) as db:
        assert db.get(Person, team).nudge_paused_until is None


def test_pause_intent_goes_straight_to_the_date(runtime, team) -> None:
    from tests.dialogs.transcript import Transcript

    tx = Transcript(runtime, team)
    tx.send("pause")
    tx.expect(tx.t("privacy.ask_pause"))
    tx.send("next week")
    tx.expect(tx.t("privacy.paused", date="30 Nov 2026"))
    assert not [r for r in tx.replies if hasattr(r, "options") and r.options()]  # done, no menu


def test_export_in_chat_is_two_one_time_links_to_complete_data(runtime, engine, team) -> None:
    """Never the data itself in chat: a download link for the complete JSON and one for the
    printable page (issue 15); the JSON link gives everything."""
    from dialogs.engine.replies import PersonalLinks
    from storage import links
    from storage.personal_data import export_person
    from tests.dialogs.transcript import Transcript

    tx = Transcript(runtime, team)
    tx.send("privacy")
    tx.choose("export")
    [offered] = [r for r in tx.replies if isinstance(r, PersonalLinks)]
    assert offered.text == tx.t("privacy.export_ready")
    assert [link.purpose for link in offered.links] == ["download_json", "download_page"]
    assert all(len(r.text) < 2000 for r in tx.replies)
    assert tx.prompt.text == tx.t("privacy.what_now")  # back at the privacy centre
    with Session(engine) as db:
        used = links.redeem(db, offered.links[0].token, links.DOWNLOADS, now=runtime.clock())
        assert used is not None and used.person_id == team
        data = json.loads(json.dumps(export_person(db, db.get(Person, team))))
    assert data["person"]["email"] == "sam@example.com"
    assert data["person"]["manager_email"] == "boss@example.com"
    assert {e["title"] for e in data["experiment"]} == {
        "Shadow the finance team",
        "Secret side quest",
    }
    assert data["answer"][0]["text"] == "Run my own team"


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_delete_everything_needs_confirmation(runtime, engine, team, lang) -> None:
    from tests.dialogs.transcript import Transcript

    with Session(engine) as db:
        db.get(Person, team).language = lang
        db.commit()
    tx = Transcript(runtime, team)
    tx.send("privacy")
    tx.choose("delete")
    tx.choose("no")
    tx.expect(tx.t("privacy.delete_cancelled"))
    tx.choose("delete")
    tx.expect(tx.t("privacy.ask_delete"))
    deleted_text = tx.t("privacy.deleted")
    tx.choose("yes")
    tx.expect(deleted_text)
    with Session(engine) as db:
        assert db.get(Person, team) is None
        assert db.exec(select(Experiment)).all() == []
        assert db.exec(select(Answer)).all() == []
        assert db.exec(select(DialogSession).where(DialogSession.person_id == team)).all() == []
        audit = db.exec(select(AuditEntry)).all()
        assert [a.action for a in audit] == ["person_deleted"]
        assert "sam" not in json.dumps(audit[0].detail)
        assert db.exec(select(Person).where(Person.email == "boss@example.com")).one()


def test_the_preview_is_in_the_owners_language_and_says_the_manager_reads_theirs(
    engine, team
) -> None:
    """``manager_view.preview``: what the privacy centre's "what my manager sees" renders
    (dialogs/flows/privacy.py calls it with the owner's language)."""
    from dialogs.engine.content import load_content
    from dialogs.nudges.manager_view import preview, render_shared
    from storage.privacy import shared_with_manager

    content = load_content()
    with Session(engine) as db:
        sam = db.get(Person, team)
        bea = db.get(Person, sam.manager_id)
        items = shared_with_manager(db, sam)
        english = preview(content, "en", sam, items, manager=bea)
        same = preview(content, "nl", sam, items, manager=bea)
    assert english.startswith(render_shared(content, "en", sam, items))
    assert "What Sam Jones has shared" in english and "Invoices are hard" in english
    assert "Wat Sam" not in english and english.endswith("Bea reads this in Dutch.")
    assert same == render_shared(content, "nl", sam, items)  # same language: no extra line
