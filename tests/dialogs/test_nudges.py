"""When nudges are due: local time across DST, working days, holidays, pauses, new hires,
experiments, catch-up after downtime, and a gentler rhythm for people who do not answer."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session

from dialogs.engine.calendar import NudgePolicy, slot
from dialogs.engine.content import load_content
from dialogs.nudges.rules import due_nudges
from storage.models import CheckIn, Experiment, Person
from storage.outbox import enqueue_many

POLICY = NudgePolicy()
WELCOMED = datetime(2026, 11, 9, 8, 0, tzinfo=UTC)  # Monday 9 November


def person(engine, **fields) -> Person:
    with Session(engine, expire_on_commit=False) as db:
        fields.setdefault("welcomed_at", WELCOMED)
        someone = Person(email=fields.pop("email", "sam@example.com"), name="Sam Jones", **fields)
        db.add(someone)
        db.commit()
        return someone


def due(engine, now: datetime) -> list:
    with Session(engine) as db:
        return due_nudges(db, load_content(), now=now, policy=POLICY)


def enqueue_all(engine, nudges) -> int:
    with Session(engine) as db:
        added = enqueue_many(db, nudges)
        db.commit()
        return added


@pytest.mark.parametrize(
    ("zone", "day", "expected_utc"),
    [
        ("Europe/Amsterdam", date(2026, 3, 27), datetime(2026, 3, 27, 8, 30, tzinfo=UTC)),  # CET
        ("Europe/Amsterdam", date(2026, 3, 30), datetime(2026, 3, 30, 7, 30, tzinfo=UTC)),  # CEST
        ("Europe/Amsterdam", date(2026, 10, 26), datetime(2026, 10, 26, 8, 30, tzinfo=UTC)),
        ("America/New_York", date(2026, 3, 6), datetime(2026, 3, 6, 14, 30, tzinfo=UTC)),  # EST
        ("America/New_York", date(2026, 3, 9), datetime(2026, 3, 9, 13, 30, tzinfo=UTC)),  # EDT
        ("America/New_York", date(2026, 11, 2), datetime(2026, 11, 2, 14, 30, tzinfo=UTC)),
    ],
)
def test_slots_are_local_time_across_daylight_saving(zone, day, expected_utc) -> None:
    someone = Person(
        email="x@example.com", name="X", timezone=zone, country="US" if "New" in zone else "NL"
    )
    assert slot(someone, day, POLICY) == expected_utc


def test_weekends_holidays_and_pauses_move_the_slot() -> None:
    dutch = Person(email="x@example.com", name="X", country="NL")
    assert slot(dutch, date(2026, 11, 28), POLICY).date() == date(
        2026, 11, 30
    )  # Saturday -> Monday
    assert slot(dutch, date(2026, 4, 27), POLICY).date() == date(2026, 4, 28)  # King's Day
    assert slot(dutch, date(2026, 12, 25), POLICY).date() == date(
        2026, 12, 28
    )  # Christmas, weekend
    paused = Person(
        email="y@example.com", name="Y", country="NL", nudge_paused_until=date(2026, 12, 9)
    )
    assert slot(paused, date(2026, 12, 1), POLICY).date() == date(2026, 12, 10)
    own_time = Person(
        email="z@example.com", name="Z", nudge_time="14:00", timezone="Europe/London", country="GB"
    )
    assert slot(own_time, date(2026, 12, 1), POLICY) == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    tuesdays = Person(email="w@example.com", name="W", country="NL")
    assert slot(tuesdays, date(2026, 12, 2), POLICY, weekday=1).date() == date(2026, 12, 8)


def test_a_check_in_nudge_comes_two_weeks_after_the_welcome_at_local_morning(engine) -> None:
    sam = person(engine)
    assert due(engine, datetime(2026, 11, 23, 8, 29, tzinfo=UTC)) == []  # 09:29 in Amsterdam
    [nudge] = due(engine, datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    assert (nudge.person_id, nudge.kind) == (sam.id, "checkin")
    assert nudge.payload[0]["kind"] == "offer"
    assert [intent for intent, _ in nudge.payload[0]["actions"]] == ["checkin", "pause"]
    assert "Sam" in nudge.payload[0]["text"]


def test_firing_twice_or_all_day_enqueues_once(engine) -> None:
    person(engine)
    first = due(engine, datetime(2026, 11, 23, 8, 30, tzinfo=UTC))
    again = due(engine, datetime(2026, 11, 23, 8, 31, tzinfo=UTC))
    assert first[0].key == again[0].key
    assert enqueue_all(engine, first) == 1
    assert enqueue_all(engine, again) == 0
    # once nudged, nothing more is due that day or the next
    assert due(engine, datetime(2026, 11, 23, 15, 0, tzinfo=UTC)) == []
    assert due(engine, datetime(2026, 11, 24, 8, 30, tzinfo=UTC)) == []


def test_after_downtime_a_missed_nudge_comes_once_and_never_at_night(engine) -> None:
    person(engine)
    # down from 20 to 27 November: at 03:00 local nothing is sent
    assert due(engine, datetime(2026, 11, 27, 2, 0, tzinfo=UTC)) == []
    # back at 10:00 local: the missed check-in comes once, at today's slot
    [nudge] = due(engine, datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    assert nudge.due == datetime(2026, 11, 27, 8, 30, tzinfo=UTC)
    enqueue_all(engine, [nudge])
    assert due(engine, datetime(2026, 11, 27, 9, 1, tzinfo=UTC)) == []


def test_a_check_in_done_resets_the_clock_and_off_means_off(engine) -> None:
    sam = person(engine)
    with Session(engine) as db:
        db.add(
            CheckIn(person_id=sam.id, energy=4, created_at=datetime(2026, 11, 20, 12, tzinfo=UTC))
        )
        db.commit()
    assert due(engine, datetime(2026, 11, 23, 8, 30, tzinfo=UTC)) == []
    assert [n.kind for n in due(engine, datetime(2026, 12, 4, 8, 30, tzinfo=UTC))] == ["checkin"]
    person(engine, email="quiet@example.com", nudge_frequency="off")
    assert len(due(engine, datetime(2026, 12, 4, 8, 30, tzinfo=UTC))) == 1


def test_two_unanswered_nudges_make_the_rhythm_gentler(engine) -> None:
    person(engine, nudge_frequency="weekly")
    sent = 0
    day = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)
    seen_days = []
    while day < datetime(2027, 1, 31, tzinfo=UTC):
        nudges = [n for n in due(engine, day) if n.kind == "checkin"]
        if nudges:
            sent += enqueue_all(engine, nudges)
            seen_days.append(day.date())
        day += timedelta(days=1)
    gaps = [(b - a).days for a, b in itertools.pairwise(seen_days)]
    assert gaps[0] == 7  # the first two come weekly
    assert all(gap >= 14 for gap in gaps[1:])  # then unanswered: every other week at most


def test_new_hires_get_check_ins_after_a_week_a_month_and_three_months(engine) -> None:
    person(engine, start_date=date(2026, 11, 16), nudge_frequency="monthly")
    kinds = []
    day = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)
    while day < datetime(2027, 3, 1, tzinfo=UTC):
        for nudge in due(engine, day):
            if nudge.kind.startswith("onboarding"):
                kinds.append((nudge.kind, nudge.due.date()))
            enqueue_all(engine, [nudge])
        day += timedelta(days=1)
    assert [k for k, _ in kinds] == ["onboarding_7", "onboarding_30", "onboarding_91"]
    assert kinds[0][1] == date(2026, 11, 23)


def test_experiment_nudges_planned_date_missing_reflection_and_follow_up(engine) -> None:
    sam = person(engine, nudge_frequency="monthly")
    with Session(engine) as db:
        db.add(
            Experiment(
                person_id=sam.id,
                title="Shadow finance",
                planned_date=date(2026, 11, 19),
                created_at=WELCOMED,
            )
        )
        db.add(
            Experiment(
                person_id=sam.id,
                title="Teach Excel",
                status="done",
                done_at=datetime(2026, 11, 13, 12, tzinfo=UTC),
                created_at=WELCOMED,
            )
        )
        db.add(
            Experiment(
                person_id=sam.id,
                title="Swap a task",
                status="done",
                learned="Ask early",
                done_at=datetime(2026, 8, 21, 12, tzinfo=UTC),
                created_at=WELCOMED,
            )
        )
        db.commit()
    found = []
    day = datetime(2026, 11, 16, 8, 30, tzinfo=UTC)
    for _ in range(14):
        for nudge in due(engine, day):
            found.append(nudge.kind)
            enqueue_all(engine, [nudge])
        day += timedelta(days=1)
    assert {"experiment_due", "experiment_reflect", "experiment_followup"} <= set(found)
    assert found.count("experiment_due") == 1


def test_nobody_unwelcomed_or_deleted_is_nudged(engine) -> None:
    person(engine, welcomed_at=None)
    assert due(engine, datetime(2026, 12, 23, 8, 30, tzinfo=UTC)) == []


def test_the_home_screen_shows_the_day_the_scheduler_will_nudge(engine) -> None:
    from dialogs.flows.home import build_summary

    sam = person(engine, nudge_paused_until=date(2026, 11, 24))
    with Session(engine) as db:
        home = build_summary(db, load_content(), db.get(Person, sam.id), today=date(2026, 11, 20))
    assert "25 Nov 2026" in home.next_checkin  # after the pause, on a working day
    assert due(engine, datetime(2026, 11, 24, 8, 30, tzinfo=UTC)) == []
    assert [n.kind for n in due(engine, datetime(2026, 11, 25, 8, 30, tzinfo=UTC))] == ["checkin"]
