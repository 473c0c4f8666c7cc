"""HR's participation counts on both databases: months, K suppression, no text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import insert
from sqlmodel import Session, select

from storage.models import Answer, AuditEntry, CheckIn, Experiment, ExperimentStatus, Person
from storage.reports import participation


def test_monthly_counts_of_people_with_k_suppression(any_engine) -> None:
    with Session(any_engine) as db:
        people = [Person(email=f"p{n}@example.com", name=f"P{n}") for n in range(6)]
        db.add_all(people)
        db.flush()
        for n, person in enumerate(people):
            for day in (3, 4):  # twice in November: still one person
                db.add(
                    Answer(
                        person_id=person.id,
                        dialog_id="reflection",
                        question_id="q",
                        text="secret",
                        created_at=datetime(2026, 11, day, 12, tzinfo=UTC),
                    )
                )
            if n < 2:
                db.add(
                    Answer(
                        person_id=person.id,
                        dialog_id="reflection",
                        question_id="q",
                        text="secret",
                        created_at=datetime(2026, 10, 9, 12, tzinfo=UTC),
                    )
                )
        db.commit()
        report = participation(db, start=date(2026, 1, 1), end=date(2026, 12, 31), min_group=5)
        db.commit()
        [audit] = db.exec(select(AuditEntry).where(AuditEntry.action == "hr_report")).all()
        assert audit.subject_id is None  # about a group, never a person
    cells = {(r.metric, r.period): report.cell(r) for r in report.rows}
    assert cells[("reflected", "2026-11")] == "6"
    assert cells[("reflected", "2026-10")] == "<5"
    assert cells[("people", "")] == "6"
    assert "secret" not in repr(report)


def test_months_are_utc_months_of_the_moment_also_for_bulk_inserts(any_engine) -> None:
    """The month an answer counts in is its UTC month, however the moment was given, whether
    the ORM or a bulk insert wrote it; the period's exact bounds still apply within a month."""
    amsterdam = timezone(timedelta(hours=2))
    with Session(any_engine) as db:
        people = [Person(email=f"m{n}@example.com", name=f"M{n}") for n in range(5)]
        db.add_all(people)
        db.flush()
        for person in people:  # 01:30 on 1 April in Amsterdam is 23:30 on 31 March in UTC
            db.add(
                CheckIn(
                    person_id=person.id,
                    energy=3,
                    created_at=datetime(2026, 4, 1, 1, 30, tzinfo=amsterdam),
                )
            )
        db.flush()
        db.execute(
            insert(CheckIn),
            [
                {
                    "person_id": p.id,
                    "energy": 4,
                    "visibility": "private",
                    "in_aggregates": True,
                    "next_step": "",
                    "created_at": datetime(2026, 6, 20, 9, tzinfo=UTC),
                }
                for p in people
            ],
        )
        db.commit()
        stored = sorted(db.exec(select(CheckIn.created_month)).all())
        assert stored == ["2026-03"] * 5 + ["2026-06"] * 5
        whole = participation(db, start=date(2026, 1, 1), end=date(2026, 12, 31), min_group=5)
        cut = participation(db, start=date(2026, 1, 1), end=date(2026, 6, 19), min_group=5)
    months = {r.period: whole.cell(r) for r in whole.rows if r.metric == "checked_in"}
    assert months == {"2026-03": "5", "2026-06": "5"}
    assert {r.period for r in cut.rows if r.metric == "checked_in"} == {"2026-03"}


def test_experiments_done_this_year_split_zero_one_two_three_or_more(any_engine) -> None:
    """Each person in exactly one cell: none, 1, 2, 3+ done this year (last year's and
    uncounted experiments left out), in the department asked for."""
    with Session(any_engine) as db:
        people = [
            Person(email=f"e{n}@example.com", name=f"E{n}", department="Ops") for n in range(20)
        ]
        db.add(Person(email="other@example.com", name="Other", department="Sales"))
        db.add_all(people)
        db.flush()
        done = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4}  # person index -> experiments done this year
        for n, person in enumerate(people):
            for _ in range(done.get(n % 5, 0)):
                db.add(
                    Experiment(
                        person_id=person.id,
                        title="t",
                        status=ExperimentStatus.DONE,
                        done_at=datetime(2026, 5, 1, tzinfo=UTC),
                    )
                )
            db.add(
                Experiment(
                    person_id=person.id,
                    title="old",
                    status=ExperimentStatus.DONE,
                    done_at=datetime(2025, 5, 1, tzinfo=UTC),
                )
            )
            db.add(
                Experiment(
                    person_id=person.id,
                    title="uncounted",
                    status=ExperimentStatus.DONE,
                    done_at=datetime(2026, 5, 1, tzinfo=UTC),
                    in_aggregates=False,
                )
            )
        db.commit()
        report = participation(
            db, start=date(2026, 1, 1), end=date(2026, 12, 31), min_group=3, department="Ops"
        )
    cells = {
        r.period: report.cell(r) for r in report.rows if r.metric == "experiments_done_this_year"
    }
    assert cells == {"0/3": "4", "1/3": "4", "2/3": "4", "3+/3": "8"}
    assert {r.metric: report.cell(r) for r in report.rows if not r.period}["people"] == "20"
