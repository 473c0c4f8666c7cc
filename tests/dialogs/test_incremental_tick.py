"""The incremental due-nudge tick: given the last tick (``since``), only the people whose slot
came after it are loaded and evaluated — grouped by time zone and nudge time — while after
downtime everything that fell due within the grace period still goes out once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.nudges import rules
from dialogs.nudges.rules import due_nudges
from storage.models import CheckIn, Outbound, OutboxState, Person
from storage.outbox import OutboxMessage

POLICY = NudgePolicy()
WELCOMED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
CHECKED_IN = datetime(2026, 11, 9, 10, 0, tzinfo=UTC)  # weekly: the next one Monday 16 Nov
AMSTERDAM_SLOT = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)  # 09:30 CET
NEW_YORK_SLOT = datetime(2026, 11, 16, 14, 30, tzinfo=UTC)  # 09:30 EST
NOW = NEW_YORK_SLOT + timedelta(minutes=1)  # 15:31 in Amsterdam: its slot still in the grace


@pytest.fixture
def people(engine: Engine) -> dict[str, int]:
    """Ann in Amsterdam and Ned in New York, each with a check-in and a nudge in the past."""
    ids: dict[str, int] = {}
    with Session(engine) as db:
        for name, zone, country in (
            ("Ann", "Europe/Amsterdam", "NL"),
            ("Ned", "America/New_York", "US"),
        ):
            someone = Person(
                email=f"{name.lower()}@example.com",
                name=f"{name} Smith",
                timezone=zone,
                country=country,
                nudge_frequency="weekly",
                welcomed_at=WELCOMED,
            )
            db.add(someone)
            db.flush()
            assert someone.id is not None
            ids[name] = someone.id
            db.add(CheckIn(person_id=someone.id, energy=4, created_at=CHECKED_IN))
            db.add(
                Outbound(
                    idempotency_key=f"checkin:{someone.id}:2026-11-09",
                    person_id=someone.id,
                    kind="checkin",
                    payload=[],
                    state=OutboxState.SENT,
                    not_before=CHECKED_IN - timedelta(hours=1),
                    created_at=CHECKED_IN - timedelta(hours=1),
                )
            )
        db.commit()
    return ids


@pytest.fixture
def evaluated(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[int, Any]]:
    """Whom the tick evaluated, with the history it had read for them."""
    seen: dict[int, Any] = {}
    real = rules._for_person

    def spy(person: Any, history: Any, *args: Any) -> list[OutboxMessage]:
        seen[person.id] = history
        return real(person, history, *args)

    monkeypatch.setattr(rules, "_for_person", spy)
    yield seen


def tick(engine: Engine, since: datetime | None, now: datetime = NOW) -> list[OutboxMessage]:
    with Session(engine) as db:
        return due_nudges(db, load_content(), now=now, policy=POLICY, since=since)


def test_without_a_last_tick_everyone_in_the_grace_is_evaluated(
    engine: Engine, people: dict[str, int], evaluated: dict[int, Any]
) -> None:
    found = tick(engine, since=None)
    assert sorted((m.person_id, m.kind, m.due) for m in found) == sorted(
        [
            (people["Ann"], "checkin", AMSTERDAM_SLOT),  # late, within the grace
            (people["Ned"], "checkin", NEW_YORK_SLOT),
        ]
    )
    assert set(evaluated) == {people["Ann"], people["Ned"]}


def test_a_person_whose_slot_is_not_in_the_window_is_not_even_loaded(
    engine: Engine, people: dict[str, int], evaluated: dict[int, Any]
) -> None:
    found = tick(engine, since=NOW - timedelta(minutes=2))  # the tick before New York's slot
    assert [(m.person_id, m.due) for m in found] == [(people["Ned"], NEW_YORK_SLOT)]
    assert set(evaluated) == {people["Ned"]}  # Ann's 08:30 was the earlier ticks' business
    history = evaluated[people["Ned"]]
    assert set(history.last_checkin) == {people["Ned"]}  # and only Ned's history was read
    assert {person_id for person_id, _ in history.nudged} == {people["Ned"]}


def test_a_tick_with_nobody_s_slot_in_its_window_reads_only_the_zones(
    engine: Engine, people: dict[str, int], evaluated: dict[int, Any]
) -> None:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        found = tick(engine, since=NOW, now=NOW + timedelta(minutes=1))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert found == []
    assert evaluated == {}
    assert len(statements) == 1  # the distinct time zones and nudge times, nothing else
    assert "outbound" not in statements[0] and "check_in" not in statements[0]


def test_after_downtime_what_fell_due_within_the_grace_still_goes_once(
    engine: Engine, people: dict[str, int], evaluated: dict[int, Any]
) -> None:
    down_since = AMSTERDAM_SLOT - timedelta(hours=3)  # the last tick before the downtime
    found = tick(engine, since=down_since)
    assert {m.person_id for m in found} == {people["Ann"], people["Ned"]}
    # A last tick after Amsterdam's slot already evaluated it: not again.
    found = tick(engine, since=AMSTERDAM_SLOT + timedelta(minutes=1))
    assert {m.person_id for m in found} == {people["Ned"]}


def test_a_last_tick_older_than_the_grace_changes_nothing(
    engine: Engine, people: dict[str, int]
) -> None:
    long_ago = NOW - POLICY.grace - timedelta(days=2)
    assert {m.key for m in tick(engine, since=long_ago)} == {m.key for m in tick(engine, None)}


def test_someone_added_after_the_last_tick_gets_what_their_passed_slot_of_today_brings(
    engine: Engine, people: dict[str, int], evaluated: dict[int, Any]
) -> None:
    """A new hire imported at 15:30 in Amsterdam, a week after their start: their slot of
    today (09:30) had passed before they existed, yet their first check-in goes today, late."""
    with Session(engine) as db:
        nia = Person(
            email="nia@example.com",
            name="Nia Bakker",
            timezone="Europe/Amsterdam",
            country="NL",
            start_date=AMSTERDAM_SLOT.date() - timedelta(days=7),
            slack_user_id="U123",
            created_at=NOW - timedelta(minutes=1),
        )
        db.add(nia)
        db.commit()
        assert nia.id is not None
    last = NOW - timedelta(minutes=2)  # the tick before: Nia was not there yet
    found = tick(engine, since=last)
    assert sorted((m.person_id, m.kind, m.due) for m in found) == sorted(
        [(nia.id, "onboarding_7", AMSTERDAM_SLOT), (people["Ned"], "checkin", NEW_YORK_SLOT)]
    )
    assert people["Ann"] not in evaluated  # her slot was the earlier ticks' business
    # The next tick: Nia is no longer new, her slot long past.
    assert [m.person_id for m in tick(engine, since=NOW, now=NOW + timedelta(minutes=1))] == []
