"""HR's participation report: counts of people only, each cell under the one ``<K`` rule
(``storage.privacy.MinimumGroup``), never free text, and only people (and items) that allow
aggregates. The distribution of experiments done (0, 1, 2, 3+) adds up to the number of people
shown above it, so it is protected as a whole (``MinimumGroup.partition``): no hidden cell can
be worked out from the others and that total."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import String, case, cast, distinct, func
from sqlmodel import Session, col, select

from storage.models import (
    Answer,
    AuditEntry,
    CheckIn,
    ConversationStatus,
    DialogSession,
    Experiment,
    GrowthConversation,
    LearningEntry,
    LearningKind,
    Person,
    month_of,
    utcnow,
)
from storage.privacy import MinimumGroup


@dataclass(frozen=True)
class Row:
    metric: str
    period: str
    people: int | None
    """None when suppressed: fewer than K people (or hidden to protect such a cell)."""
    marker: str | None = None
    """How a suppressed cell shows when not ``<K`` (``×``: hidden to protect another cell)."""


@dataclass(frozen=True)
class Participation:
    rule: MinimumGroup
    rows: list[Row]

    @property
    def k(self) -> int:
        return self.rule.k

    def cell(self, row: Row) -> str:
        if row.people is None and row.marker is not None:
            return row.marker
        return self.rule.cell(row.people)


def participation(
    db: Session,
    *,
    start: date,
    end: date,
    min_group: int,
    department: str | None = None,
    reader_id: int | None = None,
    operator: str | None = None,
) -> Participation:
    """``reader_id``: the HR person asking in chat; ``operator``: the administrator at the
    command line. Either is in the audit entry (about a group, never a person)."""
    rule = MinimumGroup.configured(min_group)
    people = select(Person.id).where(col(Person.in_aggregates))
    if department:
        people = people.where(Person.department == department)
    group = int(db.exec(select(func.count()).select_from(people.subquery())).one())
    since = datetime.combine(start, time.min, tzinfo=UTC)
    until = datetime.combine(end, time.max, tzinfo=UTC)
    rows: list[Row] = []

    def add(metric: str, period: str, count: int) -> None:
        rows.append(Row(metric, period, rule.count(count, group=group)))

    def distinct_people(query: Any) -> int:
        return int(db.exec(query).one())

    counted = col(Person.id).in_(people.scalar_subquery())
    add("people", "", group)
    add(
        "onboarded",
        "",
        distinct_people(
            select(func.count()).where(counted, col(Person.welcomed_at).between(since, until))
        ),
    )
    add(
        "active",
        "",
        distinct_people(
            select(func.count(distinct(col(DialogSession.person_id)))).where(
                col(DialogSession.person_id).in_(people.scalar_subquery()),
                col(DialogSession.updated_at).between(since, until),
            )
        ),
    )
    mine = col(Experiment.person_id).in_(people.scalar_subquery())
    add(
        "experiment_planned",
        "",
        distinct_people(
            select(func.count(distinct(col(Experiment.person_id)))).where(
                mine,
                col(Experiment.in_aggregates),
                col(Experiment.status).in_(["planned", "doing"]),
            )
        ),
    )
    year_start = datetime(end.year, 1, 1, tzinfo=UTC)
    done = (
        select(func.count().label("done"))
        .where(
            mine,
            col(Experiment.in_aggregates),
            Experiment.status == "done",
            col(Experiment.done_at).between(year_start, until),
        )
        .group_by(col(Experiment.person_id))
        .subquery()
    )
    bucket = case((done.c.done >= 3, 3), else_=done.c.done)  # 1, 2 or 3+ done
    distribution = [0, 0, 0, 0]
    for done_count, people_count in db.exec(select(bucket, func.count()).group_by(bucket)):
        distribution[int(done_count)] = int(people_count)
    distribution[0] = group - sum(distribution[1:])  # everyone counted who did none this year
    cells = rule.partition(distribution)
    for n, count in enumerate(cells.counts):
        period = f"{n}/3" if n < 3 else "3+/3"
        marker = cells.marker if cells.marker != rule.cell(None) else None
        rows.append(Row("experiments_done_this_year", period, count, marker))
    months = (month_of(since), month_of(until))
    for metric, model in (("reflected", Answer), ("checked_in", CheckIn)):
        # Counted from ``ix_<table>_monthly`` alone: the month range lets the index be read
        # in (month, person) order, so nothing is sorted; the moments keep the exact period.
        created = col(model.created_month)
        for created_month, people_count in db.exec(
            select(created, func.count(distinct(col(model.person_id))))
            .where(
                col(model.in_aggregates),
                created.between(*months),
                col(model.created_at).between(since, until),
                col(model.person_id).in_(people.scalar_subquery()),
            )
            .group_by(created)
            .order_by(created)
        ):
            add(metric, str(created_month), int(people_count))
    learned = dict(
        db.exec(
            select(LearningEntry.kind, func.count(distinct(col(LearningEntry.person_id))))
            .where(
                col(LearningEntry.person_id).in_(people.scalar_subquery()),
                col(LearningEntry.in_aggregates),
                col(LearningEntry.created_at).between(since, until),
            )
            .group_by(col(LearningEntry.kind))
        ).all()
    )
    for kind in LearningKind:  # people per kind of learning noted: counts, never titles
        add(f"learning_{kind}", "", int(learned.get(kind, 0)))
    # Growth conversations per month: employees who had one, prepared, brought an agenda.
    # Counts of people only; what was said, prepared or agreed never leaves the row.
    talks = col(GrowthConversation.person_id).in_(people.scalar_subquery())
    held = col(GrowthConversation.status) == ConversationStatus.PLANNED
    for metric, moment, low, high in (
        ("conversation_held", GrowthConversation.planned_for, start, end),
        ("conversation_prepared", GrowthConversation.prepared_at, since, until),
        ("conversation_brought", GrowthConversation.agenda_shared_at, since, until),
    ):
        month = func.substr(cast(moment, String), 1, 7)
        per_month = db.exec(
            select(month, func.count(distinct(col(GrowthConversation.person_id))))
            .where(talks, held, col(moment).between(low, high))
            .group_by(month)
            .order_by(month)
        )
        for period, count in per_month:
            add(metric, str(period), int(count))
    db.add(
        AuditEntry(
            at=utcnow(),
            actor_id=reader_id,
            action="hr_report",
            detail={"department": department, "from": start.isoformat(), "to": end.isoformat()}
            | ({"operator": operator} if operator else {}),
        )
    )
    return Participation(rule, rows)
