"""The due-nudge tick reads only who can be due: the database aggregates the periodic history
(within ``PERIODIC_HORIZON``), reads only the experiments around now and leaves out everyone
whose intervals all end after today (``rules._can_be_due``). That must never change who gets
which nudge: on a varied organisation, at many instants, the tick finds exactly what
evaluating everyone with their whole history finds."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import true
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.nudges import rules
from dialogs.nudges.calm import FOLDED_INTO
from dialogs.nudges.rules import due_nudges
from storage.models import (
    Answer,
    CheckIn,
    DialogSession,
    Experiment,
    ExperimentStatus,
    Outbound,
    OutboxState,
    Person,
    SessionStatus,
)

POLICY = NudgePolicy()
START = datetime(2026, 9, 1, 0, 0, tzinfo=UTC)
ZONES = (
    ("Europe/Amsterdam", "NL"),
    ("America/New_York", "US"),
    ("Pacific/Auckland", "NZ"),  # UTC+13 in December: its day starts before UTC's
    ("Pacific/Honolulu", "US"),  # UTC-10: its day ends after UTC's
)

OUTCOMES = (
    (OutboxState.SENT, None),
    (OutboxState.SENT, None),
    (OutboxState.SKIPPED, FOLDED_INTO + "another"),  # calm folded it: does not count
    (OutboxState.SKIPPED, "paused"),  # skipped otherwise: counts as a nudge that went
    (OutboxState.PENDING, None),
)


def _moment(rng: random.Random, days: float) -> datetime:
    """A moment up to ``days`` before START, or a little after it."""
    return START - timedelta(days=rng.uniform(-20, days))


def _organisation(engine: Engine, size: int = 80) -> list[int]:
    """People of every frequency, zone, nudge time and weekday, some paused, some new hires
    or never welcomed, with random check-ins, reflections, nudges (some folded by calm),
    conversations and experiments over the last 400 days."""
    rng = random.Random(2026)
    ids: list[int] = []
    with Session(engine) as db:
        for n in range(size):
            zone, country = rng.choice(ZONES)
            welcomed = None if n % 9 == 0 else _moment(rng, 200)
            person = Person(
                email=f"p{n}@example.com",
                name=f"Person {n}",
                timezone=zone,
                country=country,
                nudge_frequency=rng.choice(["weekly", "biweekly", "monthly", "off"]),
                nudge_time=rng.choice([None, "08:15", "13:40"]),
                nudge_weekday=rng.choice([None, None, 0, 3]),
                nudge_paused_until=(
                    (START + timedelta(days=rng.randint(0, 30))).date() if n % 7 == 0 else None
                ),
                start_date=(
                    (START + timedelta(days=rng.randint(-120, 40))).date() if n % 4 == 0 else None
                ),
                slack_user_id=f"U{n}" if n % 2 else None,
                welcomed_at=welcomed,
            )
            db.add(person)
            db.flush()
            assert person.id is not None
            pid = person.id
            ids.append(pid)
            for _ in range(rng.randint(0, 4)):
                db.add(CheckIn(person_id=pid, energy=3, created_at=_moment(rng, 150)))
            for _ in range(rng.randint(0, 2)):
                db.add(
                    Answer(
                        person_id=pid,
                        dialog_id="reflection",
                        question_id="q",
                        text="x",
                        created_at=_moment(rng, 150),
                    )
                )
            for k in range(rng.randint(0, 8)):
                at = _moment(rng, 400)
                state, note = rng.choice(OUTCOMES)
                db.add(
                    Outbound(
                        idempotency_key=f"history:{pid}:{k}",
                        person_id=pid,
                        kind=rng.choice(["checkin", "reflection", "experiment_due"]),
                        payload=[],
                        state=state,
                        last_error=note,
                        not_before=at,
                        created_at=at,
                    )
                )
            for _ in range(rng.randint(0, 2)):
                db.add(
                    DialogSession(
                        person_id=pid,
                        dialog_id="checkin",
                        step="done",
                        status=SessionStatus.DONE,
                        created_at=_moment(rng, 300),
                        updated_at=_moment(rng, 300),
                    )
                )
            if n % 2 == 0:
                done = _moment(rng, 130)
                db.add(
                    Experiment(
                        person_id=pid,
                        title=f"Experiment {n}",
                        status=rng.choice([*ExperimentStatus, ExperimentStatus.DONE]),
                        planned_date=(START + timedelta(days=rng.randint(-20, 30))).date(),
                        done_at=done,
                        learned=rng.choice([None, "A lot"]),
                    )
                )
        db.commit()
    return ids


def _tick(engine: Engine, now: datetime) -> list[tuple[Any, ...]]:
    with Session(engine) as db:
        found = due_nudges(db, load_content(), now=now, policy=POLICY)
    return sorted((m.key, m.person_id, m.kind, m.due, str(m.payload)) for m in found)


def test_reading_only_who_can_be_due_finds_what_evaluating_everyone_finds(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _organisation(engine)
    rng = random.Random(7)
    instants = [START + timedelta(hours=rng.uniform(0, 24 * 60)) for _ in range(60)]
    quick = [_tick(engine, now) for now in instants]
    # Everyone evaluated, with the whole 400 days of their history:
    monkeypatch.setattr(rules, "_can_be_due", lambda *args: true())
    monkeypatch.setattr(rules, "PERIODIC_HORIZON", timedelta(days=400))
    monkeypatch.setattr(rules, "_experiments_around", lambda now: true())
    full = [_tick(engine, now) for now in instants]
    assert quick == full
    assert sum(len(found) for found in full) > 40  # the instants do find nudges
    kinds = {kind for found in full for _, _, kind, _, _ in found}
    assert {"checkin", "reflection", "experiment_reflect", "experiment_followup"} <= kinds


def test_someone_not_due_today_is_not_even_read(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Of two weekly people, the one who checked in yesterday is left out by the database."""
    now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Amsterdam
    with Session(engine) as db:
        for name, checked_in in (
            ("Ann", now - timedelta(days=8)),
            ("Bob", now - timedelta(days=1)),
        ):
            someone = Person(
                email=f"{name.lower()}@example.com",
                name=name,
                nudge_frequency="weekly",
                welcomed_at=now - timedelta(days=20),
            )
            db.add(someone)
            db.flush()
            assert someone.id is not None
            db.add(CheckIn(person_id=someone.id, energy=4, created_at=checked_in))
        db.commit()
    evaluated: list[str] = []
    real = rules._for_person

    def spy(person: Any, *args: Any) -> Any:
        evaluated.append(person.name)
        return real(person, *args)

    monkeypatch.setattr(rules, "_for_person", spy)
    with Session(engine) as db:
        found = due_nudges(db, load_content(), now=now, policy=POLICY)
    assert [m.kind for m in found] == ["checkin"]
    assert evaluated == ["Ann"]


def test_the_horizon_covers_the_longest_gentle_interval() -> None:
    longest = max(rules.REFLECTION_DAYS, *rules.PERIODIC_DAYS.values()) * rules.GENTLE_STRETCH
    assert timedelta(days=longest + 2) <= rules.PERIODIC_HORIZON


@pytest.mark.parametrize(
    ("note", "due"),
    [
        ("paused", []),  # skipped otherwise, it went: two unanswered, the gentle rhythm
        (FOLDED_INTO + "another", ["checkin"]),  # folded: one unanswered, weekly as asked
    ],
)
def test_a_skipped_nudge_counts_as_unanswered_unless_calm_folded_it(
    engine: Engine, note: str, due: list[str]
) -> None:
    now = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # Monday, 10:00 in Amsterdam
    with Session(engine) as db:
        ann = Person(
            email="ann@example.com",
            name="Ann",
            nudge_frequency="weekly",
            welcomed_at=now - timedelta(days=60),
        )
        db.add(ann)
        db.flush()
        assert ann.id is not None
        db.add(
            DialogSession(
                person_id=ann.id,
                dialog_id="checkin",
                step="done",
                status=SessionStatus.DONE,
                created_at=now - timedelta(days=30),
                updated_at=now - timedelta(days=30),
            )
        )
        for key, kind, state, why, days in (
            ("a", "checkin", OutboxState.SKIPPED, note, 9),
            ("b", "reflection", OutboxState.SENT, None, 5),
        ):
            db.add(
                Outbound(
                    idempotency_key=key,
                    person_id=ann.id,
                    kind=kind,
                    payload=[],
                    state=state,
                    last_error=why,
                    not_before=now - timedelta(days=days),
                    created_at=now - timedelta(days=days),
                )
            )
        db.commit()
        found = due_nudges(db, load_content(), now=now, policy=POLICY)
    assert [m.kind for m in found] == due
