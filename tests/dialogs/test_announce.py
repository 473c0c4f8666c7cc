"""Nothing becomes visible to the manager unannounced (issue 16): a lesson written on an
experiment that is already shared is announced with a one-tap "keep this part private", and
with "shared" as the default each new item says it was shared."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from dialogs.engine.replies import Prompt
from dialogs.engine.runtime import Runtime
from storage.models import CheckIn, Experiment, Person
from storage.privacy import read_team, shared_with_manager
from tests.dialogs.conftest import add_person
from tests.dialogs.transcript import Transcript

LESSON = "LESSON-MARKER numbers tell stories"
KEEP = "KEEP-MARKER ask before I assume"


def finish_check_in(tx: Transcript, next_step: str) -> str:
    """Answer the last check-in question, past an "all good?" offer if the flow makes one
    (the check-in flow may show it with the share offer): everything said on the way."""
    tx.send(next_step)
    tx.expect(tx.t("checkin.thanks"))
    said = tx.text
    prompts = [r for r in tx.replies if isinstance(r, Prompt)]
    if prompts and "ok" in [o.value for o in prompts[-1].options()]:
        tx.choose("ok")
        said += "\n" + tx.text
    return said


def team_view(engine: Engine, manager_id: int, owner_id: int) -> tuple[list[Experiment], str]:
    """What the manager would read of the owner's experiments, and the owner's own preview."""
    with Session(engine) as db:
        manager = db.get(Person, manager_id)
        owner = db.get(Person, owner_id)
        assert manager is not None and owner is not None
        seen = read_team(db, manager=manager, since=None, audited=False)[owner_id].experiments
        preview = shared_with_manager(db, owner).experiments
        text = " ".join(f"{e.title} {e.learned} {e.keep_doing}" for e in [*seen, *preview])
        return seen, text


def plan_shared_then_reflect(tx: Transcript) -> Experiment:
    tx.send("experiment")
    tx.choose("own")
    tx.send("Shadow the finance team")
    tx.send("skip")
    tx.send("15-12")
    tx.expect(tx.t("sharing.offer", manager="James"))
    tx.choose("share")
    with Session(tx.runtime.engine) as db:
        [item] = db.exec(select(Experiment).where(Experiment.person_id == tx.person_id)).all()
    assert item.visibility == "manager"
    tx.send("experiment")
    tx.choose("update")
    tx.choose(str(item.id))
    tx.choose("done")
    tx.send(LESSON)
    tx.send(KEEP)
    return item


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_lesson_on_a_shared_experiment_is_announced_and_can_stay_private(
    engine: Engine, runtime: Runtime, lang: str
) -> None:
    james = add_person(engine, "james@example.com", name="James Boss", language="nl")
    sam = add_person(engine, "sam@example.com", name="Sam Jones", language=lang, manager_id=james)
    tx = Transcript(runtime, sam)
    item = plan_shared_then_reflect(tx)

    tx.expect(
        tx.t("experiment.reflected"),
        tx.t("sharing.lesson_announce", manager="James"),
        tx.t("sharing.lesson_keep_private"),
        tx.t("sharing.lesson_fine"),
    )
    tx.expect_not(tx.t("sharing.offer", manager="James"))
    tx.choose("private")
    tx.expect(tx.t("sharing.lesson_kept", manager="James"))

    seen, text = team_view(engine, james, sam)
    assert [e.id for e in seen] == [item.id]  # the experiment itself stays shared
    assert "Shadow the finance team" in text
    assert "LESSON-MARKER" not in text and "KEEP-MARKER" not in text
    with Session(engine) as db:
        stored = db.get(Experiment, item.id)
        assert stored is not None
        assert (stored.learned, stored.keep_doing, stored.lesson_private) == (LESSON, KEEP, True)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_lesson_on_a_shared_experiment_is_shared_when_that_is_fine(
    engine: Engine, runtime: Runtime, lang: str
) -> None:
    james = add_person(engine, "james@example.com", name="James Boss")
    sam = add_person(engine, "sam@example.com", name="Sam Jones", language=lang, manager_id=james)
    tx = Transcript(runtime, sam)
    plan_shared_then_reflect(tx)
    tx.expect(tx.t("sharing.lesson_announce", manager="James"))
    tx.choose("fine")
    tx.expect(tx.t("sharing.lesson_shared", manager="James"))
    _, text = team_view(engine, james, sam)
    assert "LESSON-MARKER" in text and "KEEP-MARKER" in text


def test_a_lesson_on_a_private_experiment_gets_the_usual_offer(
    engine: Engine, runtime: Runtime
) -> None:
    james = add_person(engine, "james@example.com", name="James Boss")
    sam = add_person(engine, "sam@example.com", name="Sam Jones", manager_id=james)
    tx = Transcript(runtime, sam)
    tx.send("experiment")
    tx.choose("own")
    tx.send("Shadow the finance team")
    tx.send("skip")
    tx.send("15-12")
    tx.choose("private")
    tx.send("experiment")
    tx.choose("update")
    tx.choose(tx.prompt.options()[0].value)
    tx.choose("done")
    tx.send(LESSON)
    tx.send(KEEP)
    tx.expect(tx.t("sharing.offer", manager="James"))
    tx.expect_not(tx.t("sharing.lesson_announce", manager="James"))
    tx.choose("private")
    _, text = team_view(engine, james, sam)
    assert "LESSON-MARKER" not in text


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_check_in_shared_by_default_says_so(engine: Engine, runtime: Runtime, lang: str) -> None:
    james = add_person(engine, "james@example.com", name="James Boss")
    sam = add_person(
        engine,
        "sam@example.com",
        name="Sam Jones",
        language=lang,
        manager_id=james,
        default_visibility="manager",
    )
    tx = Transcript(runtime, sam)
    tx.send("checkin")
    tx.send("4")
    said = finish_check_in(tx, "Ask Finance for a shadow day")
    assert tx.t("sharing.shared_by_default", manager="James") in said
    assert tx.t("sharing.offer", manager="James") not in said
    with Session(engine) as db:
        [check_in] = db.exec(select(CheckIn).where(CheckIn.person_id == sam)).all()
        assert check_in.visibility == "manager"


def test_a_private_default_does_not_claim_anything_was_shared(
    engine: Engine, runtime: Runtime
) -> None:
    james = add_person(engine, "james@example.com", name="James Boss")
    sam = add_person(engine, "sam@example.com", name="Sam Jones", manager_id=james)
    tx = Transcript(runtime, sam)
    tx.send("checkin")
    tx.send("4")
    finish_check_in(tx, "Ask Finance for a shadow day")
    tx.expect(tx.t("sharing.offer", manager="James"))
    tx.expect_not(tx.t("sharing.shared_by_default", manager="James"))
