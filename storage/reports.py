"""HR's participation report: counts of people only, each cell suppressed ("<K") when it covers
fewer than K people, never free text, and only people (and items) that allow aggregates."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlmodel import Session, col, select

from storage.models import Answer, AuditEntry, CheckIn, DialogSession, Experiment, Person, utcnow
from storage.privacy import min_group_size


@dataclass(frozen=True)
class Row:
    metric: str
    period: str
    people: int | None
    """None when suppressed: fewer than K people."""


@dataclass(frozen=True)
class Participation:
    k: int
    rows: list[Row]

    def cell(self, row: Row) -> str:
        return str(row.people) if row.people is not None else f"<{self.k}"


def participation(
    db: Session,
    *,
    start: date,
    end: date,
    min_group: int,
    department: str | None = None,
    reader_id: int | None = None,
) -> Participation:
    k = min_group_size(min_group)
    query = select(Person).where(col(Person.in_aggregates))
    if department:
        query = query.where(Person.department == department)
    people = {p.id: p for p in db.exec(query)}
    ids = list(people)
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end, time.max, tzinfo=UTC)
    rows: list[Row] = []

    def add(metric: str, period: str, who: set[Any]) -> None:
        rows.append(Row(metric, period, len(who) if len(who) >= k else None))

    add("people", "", set(ids))
    onboarded = {p.id for p in people.values() if p.welcomed_at and since <= p.welcomed_at <= until}
    add("onboarded", "", onboarded)
    active = set(
        db.exec(
            select(DialogSession.person_id).where(
                col(DialogSession.person_id).in_(ids),
                col(DialogSession.updated_at).between(since, until),
            )
        )
    )
    add("active", "", active)
    experiments = list(
        db.exec(
            select(Experiment.person_id, Experiment.status, Experiment.done_at).where(
                col(Experiment.person_id).in_(ids), col(Experiment.in_aggregates)
            )
        )
    )
    add(
        "experiment_planned",
        "",
        {pid for pid, status, _ in experiments if status in ("planned", "doing")},
    )
    done_this_year: dict[int, int] = defaultdict(int)
    for pid, status, done_at in experiments:
        if status == "done" and done_at is not None and done_at.year == end.year:
            done_this_year[pid] += 1
    for n in range(4):
        label = f"{n}/3" if n < 3 else "3+/3"
        add(
            "experiments_done_this_year",
            label,
            {pid for pid in ids if pid is not None and min(done_this_year[pid], 3) == n},
        )
    for metric, model in (("reflected", Answer), ("checked_in", CheckIn)):
        by_month: dict[str, set[int]] = defaultdict(set)
        for pid, at in db.exec(
            select(model.person_id, model.created_at).where(
                col(model.person_id).in_(ids),
                col(model.in_aggregates),
                col(model.created_at).between(since, until),
            )
        ):
            by_month[at.strftime("%Y-%m")].add(pid)
        for month in sorted(by_month):
            add(metric, month, by_month[month])
    db.add(
        AuditEntry(
            at=utcnow(),
            actor_id=reader_id,
            action="hr_report",
            detail={"department": department, "from": start.isoformat(), "to": end.isoformat()},
        )
    )
    return Participation(k, rows)
