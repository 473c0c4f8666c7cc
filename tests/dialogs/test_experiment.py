from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from storage.models import Experiment
from tests.dialogs.transcript import Transcript


def experiments(tx: Transcript) -> list[Experiment]:
    with Session(tx.runtime.engine) as db:
        return list(
            db.exec(
                select(Experiment)
                .where(Experiment.person_id == tx.person_id)
                .order_by(Experiment.id)
            )
        )


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_plan_do_and_reflect_on_an_experiment(chat, lang: str) -> None:
    tx = chat(lang)
    tx.send("experiment")
    tx.expect(tx.t("experiment.intro", goal=3), tx.t("experiment.source"))
    tx.choose("list")
    shadow = tx.content.idea("shadow-colleague")
    assert shadow is not None
    tx.expect(shadow.text[lang])
    tx.choose("shadow-colleague")
    tx.expect(shadow.text[lang])  # "why <title>?"
    tx.send("See how Finance works")
    tx.expect(tx.t("experiment.ask_when"))
    tx.send("2026-01-05")  # in the past
    tx.expect(tx.t("experiment.date_in_past"), tx.t("experiment.ask_when"))
    tx.send("15-12")
    tx.expect("15", "2026", tx.t("experiment.progress", done=0, goal=3, year=2026))

    [item] = experiments(tx)
    assert (item.title, item.idea_id, item.status) == (
        shadow.text[lang],
        "shadow-colleague",
        "planned",
    )
    assert item.planned_date is not None and item.planned_date.isoformat() == "2026-12-15"
    assert item.visibility == "private"

    tx.send("experiment")
    tx.expect(shadow.text[lang], tx.t("experiment.states.planned"))
    tx.choose("update")
    tx.choose(str(item.id))
    tx.choose("done")
    tx.expect(tx.t("experiment.well_done"), tx.t("experiment.ask_learned", title=item.title))
    tx.send("How much work goes into one invoice")
    tx.expect(tx.t("experiment.ask_keep"))
    tx.send("Ask before I assume")
    tx.expect(tx.t("experiment.progress", done=1, goal=3, year=2026))

    [item] = experiments(tx)
    assert item.status == "done" and item.done_at is not None
    assert (item.learned, item.keep_doing) == (
        "How much work goes into one invoice",
        "Ask before I assume",
    )


def test_own_idea_without_a_date_and_dropping_it_is_fine(chat) -> None:
    tx = chat("en")
    tx.send("experiment")
    tx.choose("own")
    tx.send("Give a lunch talk about accessibility")
    tx.send("skip")
    tx.send("not sure yet")
    tx.expect(tx.t("experiment.saved", title="Give a lunch talk about accessibility", date=""))
    [item] = experiments(tx)
    assert item.planned_date is None and item.why == ""

    tx.send("experiment")
    tx.choose("update")
    tx.choose(str(item.id))
    tx.choose("dropped")
    tx.expect(tx.t("experiment.status_set.dropped"))
    assert experiments(tx)[0].status == "dropped"


def test_progress_counts_done_experiments_of_this_calendar_year(chat, engine) -> None:
    tx = chat("en")
    with Session(engine) as db:
        for title, done_at in (
            ("last year", datetime(2025, 6, 1, tzinfo=UTC)),
            ("this year", datetime(2026, 3, 1, tzinfo=UTC)),
        ):
            db.add(
                Experiment(
                    person_id=tx.person_id,
                    title=title,
                    status="done",
                    done_at=done_at,
                    learned="x",
                    created_at=done_at,
                )
            )
        db.commit()
    tx.send("experiment")
    tx.expect("2026: 1/3", "this year")
    tx.expect_not("last year")


def test_reflect_later_on_a_done_experiment(chat, engine) -> None:
    tx = chat("en")
    with Session(engine) as db:
        db.add(
            Experiment(
                person_id=tx.person_id,
                title="Teach Excel",
                status="done",
                done_at=datetime(2026, 11, 1, tzinfo=UTC),
                created_at=datetime(2026, 10, 1, tzinfo=UTC),
            )
        )
        db.commit()
    tx.send("experiment")
    tx.choose("reflect")
    [item] = experiments(tx)
    tx.choose(str(item.id))
    tx.send("Teaching is learning twice")
    tx.send("skip")
    assert experiments(tx)[0].learned == "Teaching is learning twice"


def test_an_experiment_done_just_after_local_midnight_counts_for_the_new_year(chat, clock) -> None:
    clock.now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 January in Amsterdam
    tx = chat("en", timezone="Europe/Amsterdam")
    tx.send("experiment")
    tx.choose("own")
    tx.send("Give a lunch talk about accessibility")
    tx.send("skip")
    tx.send("not sure yet")
    [item] = experiments(tx)
    tx.send("experiment")
    tx.choose("update")
    tx.choose(str(item.id))
    tx.choose("done")
    tx.send("People want captions")
    tx.send("Ask early")
    tx.expect(tx.t("experiment.progress", done=1, goal=3, year=2027))
