"""The one guarded way to read another person's data, and the sharing switches.

A manager sees only items their *direct* reports shared with them (``visibility=manager``):
``read_team`` takes the reader and returns nothing of anyone else; every read is written to the
audit log. The owner's own preview of the same view goes
through :func:`shared_with_manager` too, so "what my manager sees" is exactly what they see.
HR never reads items here: aggregates (later) count rows and never return free text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from storage.models import (
    PERSONAL_ITEM_TYPES,
    Answer,
    AuditEntry,
    CheckIn,
    Experiment,
    Person,
    PlanItem,
    ProfileEntry,
    SharedItem,
    Visibility,
    table_name,
    utcnow,
)
from storage.people import direct_reports

ITEM_TYPES: dict[str, type[SharedItem]] = {table_name(t): t for t in PERSONAL_ITEM_TYPES}

MIN_GROUP_FLOOR = 3
"""Aggregates over fewer people than this would identify someone; no setting goes lower."""


@dataclass(frozen=True)
class SharedItems:
    answers: list[Answer] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)
    check_ins: list[CheckIn] = field(default_factory=list)
    plan_items: list[PlanItem] = field(default_factory=list)
    profile: list[ProfileEntry] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any((self.answers, self.experiments, self.check_ins, self.plan_items, self.profile))


def _shared(db: Session, owner_id: int) -> SharedItems:
    def rows(item_type: type[Any]) -> list[Any]:
        return list(
            db.exec(
                select(item_type)
                .where(item_type.person_id == owner_id)
                .where(item_type.visibility == Visibility.MANAGER)
                .order_by(col(item_type.created_at), col(item_type.id))
            )
        )

    return SharedItems(
        answers=rows(Answer),
        experiments=rows(Experiment),
        check_ins=rows(CheckIn),
        plan_items=rows(PlanItem),
        profile=rows(ProfileEntry),
    )


def shared_with_manager(db: Session, owner: Person) -> SharedItems:
    """The owner's own preview: everything their manager could see right now."""
    assert owner.id is not None
    return _shared(db, owner.id)


def read_team(
    db: Session, *, manager: Person, since: datetime | None, now: datetime | None = None
) -> dict[int, SharedItems]:
    """What each direct report shared with this manager (new since ``since``): one query per
    kind of item for the whole team, one audit entry per report. The digest reads this way."""
    assert manager.id is not None
    reports = [p.id for p in direct_reports(db, manager.id) if p.id]
    found: dict[int, SharedItems] = {report: SharedItems() for report in reports}
    if not reports:
        return found

    def rows(item_type: Any, changed: Any) -> list[Any]:
        query = (
            select(item_type)
            .where(col(item_type.person_id).in_(reports))
            .where(item_type.visibility == Visibility.MANAGER)
            .order_by(col(item_type.created_at), col(item_type.id))
        )
        if since is not None:
            query = query.where(changed)
        return list(db.exec(query))

    after = since or utcnow()
    for answer in rows(Answer, col(Answer.created_at) > after):
        found[answer.person_id].answers.append(answer)
    for experiment in rows(
        Experiment, or_(col(Experiment.created_at) > after, col(Experiment.updated_at) > after)
    ):
        found[experiment.person_id].experiments.append(experiment)
    for check_in in rows(CheckIn, col(CheckIn.created_at) > after):
        found[check_in.person_id].check_ins.append(check_in)
    for item in rows(PlanItem, col(PlanItem.created_at) > after):
        found[item.person_id].plan_items.append(item)
    for entry in rows(ProfileEntry, col(ProfileEntry.created_at) > after):
        found[entry.person_id].profile.append(entry)
    at = now or utcnow()
    db.add_all(
        AuditEntry(
            at=at,
            actor_id=manager.id,
            subject_id=report,
            action="manager_read",
            detail={"manager": manager.email},
        )
        for report in reports
    )
    return found


def set_visibility(
    db: Session, *, owner_id: int, item_type: str, item_id: int, visibility: str
) -> SharedItem | None:
    """Share or unshare one item; None when the item is not the owner's."""
    if visibility not in (Visibility.PRIVATE, Visibility.MANAGER):
        raise ValueError(visibility)
    item = db.get(ITEM_TYPES[item_type], item_id)
    if item is None or item.person_id != owner_id:
        return None
    item.visibility = Visibility(visibility)
    db.add(item)
    return item


def min_group_size(configured: int) -> int:
    """The group size aggregates need: the configured one, never below the floor."""
    return max(configured, MIN_GROUP_FLOOR)


@dataclass(frozen=True)
class MinimumGroup:
    """The one ``<K`` rule, for every figure about people that someone else sees (HR's
    reports, campaign figures, a manager's team counts): a figure is drawn only from a group of
    at least K people, and a count of people in it is shown only when it is 0 or at least K —
    anything between would single people out, and shows as ``<K``."""

    k: int

    @classmethod
    def configured(cls, size: int) -> MinimumGroup:
        return cls(min_group_size(size))

    def allows_group(self, people: int) -> bool:
        return people >= self.k

    def count(self, people: int, *, group: int) -> int | None:
        """``people`` as it may be shown, or None (``<K``)."""
        if not self.allows_group(group) or 0 < people < self.k:
            return None
        return people

    def cell(self, people: int | None) -> str:
        return f"<{self.k}" if people is None else str(people)


@dataclass(frozen=True)
class TeamCounts:
    """Counts only, never text, and only over a group of at least the minimum size."""

    people: int
    with_experiment: int
    checked_in: int


def team_counts(
    db: Session, *, manager: Person, since: datetime, min_group: int, now: datetime | None = None
) -> TeamCounts | None:
    """How the manager's direct reports who allow aggregates are doing, as counts; None when
    that group is smaller than ``min_group`` (never below the floor). Audited."""
    assert manager.id is not None
    reports = [p.id for p in direct_reports(db, manager.id) if p.in_aggregates and p.id is not None]
    if not MinimumGroup.configured(min_group).allows_group(len(reports)):
        return None
    experimenting = set(
        db.exec(
            select(Experiment.person_id).where(
                col(Experiment.person_id).in_(reports),
                col(Experiment.in_aggregates),
                col(Experiment.updated_at) >= since,
            )
        )
    )
    checked = set(
        db.exec(
            select(CheckIn.person_id).where(
                col(CheckIn.person_id).in_(reports),
                col(CheckIn.in_aggregates),
                col(CheckIn.created_at) >= since,
            )
        )
    )
    db.add(
        AuditEntry(
            at=now or utcnow(),
            actor_id=manager.id,
            action="manager_aggregate",
            detail={"people": len(reports)},
        )
    )
    return TeamCounts(len(reports), len(experimenting), len(checked))


def seen_by(db: Session, person_id: int) -> list[tuple[AuditEntry, Person | None]]:
    """Who read this person's shared items, newest first: "who has seen my data"."""
    entries = db.exec(
        select(AuditEntry)
        .where(AuditEntry.subject_id == person_id)
        .order_by(col(AuditEntry.at).desc())
        .limit(50)
    )
    return [(e, db.get(Person, e.actor_id) if e.actor_id else None) for e in entries]
