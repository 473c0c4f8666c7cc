"""One tap after saving: share with the manager, or keep it private (the default)."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from storage.models import Answer, CheckIn, Experiment, PlanItem
from tests.dialogs.conftest import add_person
from tests.dialogs.transcript import Transcript


@pytest.fixture
def with_manager(engine, runtime):
    def make(language: str = "en", **fields) -> Transcript:
        boss = add_person(engine, "boss@example.com", name="Bea Baas")
        return Transcript(
            runtime,
            add_person(engine, "sam@example.com", language=language, manager_id=boss, **fields),
        )

    return make


def visibility(engine, model) -> set[str]:
    with Session(engine) as db:
        return {row.visibility for row in db.exec(select(model))}


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_reflection_can_be_shared_in_one_tap(with_manager, engine, lang) -> None:
    tx = with_manager(lang)
    tx.send("reflect" if lang == "en" else "reflectie")
    tx.send("First")
    tx.send("Second")
    tx.send("Third")
    tx.expect(tx.t("sharing.offer", manager="Bea"), tx.t("sharing.keep"))
    tx.choose("share")
    tx.expect(tx.t("sharing.shared", manager="Bea"), tx.t("reflection.insight"))
    assert visibility(engine, Answer) == {"manager"}


def test_keeping_it_private_changes_nothing(with_manager, engine) -> None:
    tx = with_manager()
    tx.send("check-in")
    tx.send("4")
    tx.send("Talk to a colleague")
    tx.choose("private")
    tx.expect(tx.t("sharing.kept"))
    assert visibility(engine, CheckIn) == {"private"}


def test_plan_items_and_experiments_get_the_offer_too(with_manager, engine) -> None:
    tx = with_manager()
    tx.send("plan")
    tx.choose("add")
    tx.choose("personal")
    tx.send("Learn to present")
    tx.send("skip")
    tx.choose("share")
    tx.expect(tx.t("plan.what_now"))  # back to the plan afterwards
    assert visibility(engine, PlanItem) == {"manager"}
    tx.choose("done")
    tx.send("experiment")
    tx.choose("own")
    tx.send("Join the sales stand-up")
    tx.send("skip")
    tx.send("skip")
    tx.expect(tx.t("sharing.offer", manager="Bea"))
    tx.choose("private")
    assert visibility(engine, Experiment) == {"private"}


def test_no_offer_without_a_manager_or_when_sharing_is_the_default(
    with_manager, engine, chat
) -> None:
    alone = chat("en", email="alone@example.com")
    alone.send("check-in")
    alone.send("4")
    alone.send("skip")
    alone.expect_not("share")
    tx = with_manager(default_visibility="manager")
    tx.send("check-in")
    tx.send("4")
    tx.send("skip")
    tx.expect(tx.t("checkin.thanks"))
    tx.expect_not(tx.t("sharing.keep"))
