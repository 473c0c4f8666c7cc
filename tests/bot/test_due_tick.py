"""The scheduler's nudge tick (``bot.jobs.write_due_nudges``): due nudges calmed and written in
one transaction, with Python's cycle collector paused while the tick builds them — and
running again afterwards, also when the tick fails."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot import jobs
from bot.config import Settings
from dialogs.engine.content import load_content
from storage.models import Outbound, Person

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Amsterdam


def _settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_a_tick_writes_what_is_due_once_with_the_collector_paused_meanwhile(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as db:
        db.add(
            Person(
                email="ann@example.com",
                name="Ann de Vries",
                nudge_frequency="weekly",
                welcomed_at=NOW - timedelta(days=40),
            )
        )
        db.commit()
    collecting: list[bool] = []
    real = jobs.due_nudges

    def spy(*args: Any, **kwargs: Any) -> Any:
        collecting.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "due_nudges", spy)
    assert gc.isenabled()
    with Session(engine) as db:
        assert jobs.write_due_nudges(db, _settings(), load_content(), NOW, since=None) == (2, 2)
        db.commit()
    with Session(engine) as db:  # the same tick again: they went, nothing is due
        assert jobs.write_due_nudges(db, _settings(), load_content(), NOW, since=None) == (0, 0)
        db.commit()
        kinds = sorted(row.kind for row in db.exec(select(Outbound)))
    assert kinds == ["checkin", "reflection"]  # one goes; calm folded the other into it
    assert collecting == [False, False]  # paused during both ticks
    assert gc.isenabled()


def test_the_collector_runs_again_when_a_tick_fails(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(jobs, "due_nudges", broken)
    with Session(engine) as db, pytest.raises(RuntimeError):
        jobs.write_due_nudges(db, _settings(), load_content(), NOW, since=None)
    assert gc.isenabled()
