"""HR's participation counts on both databases: months, K suppression, no text."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, select

from storage.models import Answer, AuditEntry, Person
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
