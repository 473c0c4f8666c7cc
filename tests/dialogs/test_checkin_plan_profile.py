from __future__ import annotations

import pytest
from sqlmodel import Session, select

from storage.models import CheckIn, Experiment, PlanItem, ProfileEntry
from tests.dialogs.conftest import NOW


def rows(engine, model, person_id):
    with Session(engine) as db:
        return list(db.exec(select(model).where(model.person_id == person_id).order_by(model.id)))


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_checkin_with_a_running_experiment(chat, engine, lang: str) -> None:
    tx = chat(lang)
    with Session(engine) as db:
        db.add(
            Experiment(
                person_id=tx.person_id,
                title="Join the sales stand-up",
                status="planned",
                created_at=NOW,
            )
        )
        db.commit()
    tx.send("check-in")
    tx.expect(tx.t("checkin.energy"))
    assert tx.prompt.kind == "scale"
    tx.send("7")
    tx.expect(tx.t("retry.scale", low=1, high=5))
    tx.send("2")
    tx.expect(tx.t("checkin.energy_low_reply"), "Join the sales stand-up")
    tx.choose("done")
    tx.expect(tx.t("checkin.experiment_done"), tx.t("checkin.next_step"))
    tx.send("Plan a chat with my manager")
    tx.expect(tx.t("checkin.thanks"), tx.t("checkin.reflect_hint"))

    [check_in] = rows(engine, CheckIn, tx.person_id)
    assert (check_in.energy, check_in.experiment_status, check_in.next_step) == (
        2,
        "done",
        "Plan a chat with my manager",
    )
    assert check_in.visibility == "private"
    [experiment] = rows(engine, Experiment, tx.person_id)
    assert experiment.status == "done" and experiment.done_at is not None


def test_checkin_without_experiment_is_two_questions(chat, engine) -> None:
    tx = chat("en")
    tx.send("checkin")
    tx.send("4")
    tx.expect(tx.t("checkin.energy_reply"), tx.t("checkin.next_step"))
    tx.send("skip")
    [check_in] = rows(engine, CheckIn, tx.person_id)
    assert (check_in.energy, check_in.experiment_id, check_in.next_step) == (4, None, "")


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_plan_add_list_and_complete(chat, engine, lang: str) -> None:
    tx = chat(lang)
    tx.send("plan")
    tx.expect(tx.t("plan.empty"))
    tx.choose("add")
    tx.expect(tx.t("plan.kinds.personal"), tx.t("plan.kinds.improvement"), tx.t("plan.kinds.team"))
    tx.choose("improvement")
    tx.expect(tx.t("plan.ask_title.improvement"))
    tx.send("Shorter handover notes")
    tx.send("volgende maand" if lang == "nl" else "next month")
    tx.expect(tx.t("plan.added", title="Shorter handover notes"), "Shorter handover notes", "2026")
    tx.choose("add")
    tx.choose("team")
    tx.send("Monthly knowledge lunch")
    tx.send("-")
    [first, second] = rows(engine, PlanItem, tx.person_id)
    assert (first.kind, first.target_date.isoformat()) == ("improvement", "2026-12-23")
    assert (second.kind, second.target_date) == ("team", None)

    tx.choose("complete")
    tx.choose(str(first.id))
    tx.expect(tx.t("plan.completed", title="Shorter handover notes"))
    tx.expect_not("Shorter handover notes (")  # no longer in the open list
    tx.choose("done")
    assert rows(engine, PlanItem, tx.person_id)[0].status == "done"


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_profile_skills_talents_and_wishes(chat, engine, lang: str) -> None:
    tx = chat(lang)
    tx.send("profile" if lang == "en" else "profiel")
    tx.expect(tx.t("profile.nothing_yet"))
    tx.choose("skill")
    tx.send("Excel, explaining things simply")
    tx.expect(tx.t("profile.added", count=2), "Excel, explaining things simply")
    tx.choose("learn")
    tx.send("Public speaking")
    tx.choose("remove")
    excel = next(e for e in rows(engine, ProfileEntry, tx.person_id) if e.text == "Excel")
    tx.choose(str(excel.id))
    tx.expect(tx.t("profile.removed", text="Excel"))
    tx.choose("done")
    entries = {(e.kind, e.text) for e in rows(engine, ProfileEntry, tx.person_id)}
    assert entries == {("skill", "explaining things simply"), ("learn", "Public speaking")}
