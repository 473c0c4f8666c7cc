"""The one guarded way to read another person's data, and the sharing switches.

A manager sees only items their *direct* reports shared with them (``visibility=manager``):
``read_team`` takes the reader and returns nothing of anyone else. Every read of another
person's data is written to the audit log with who really read it (:class:`Reader`: a person,
or an administrator at the command line), at the moment they read it: a digest on its way is
audited when it is delivered (``read_team(..., audited=False)`` then :func:`record_reads`),
never when it is composed. The owner's own preview of the same view goes through
:func:`shared_with_manager`, so "what my manager sees" is exactly what they see; the owner sees
every read under "who has seen my data" (:func:`readings`). HR never reads items here:
aggregates count rows and never return free text, each figure under the one ``<K`` rule
(:class:`MinimumGroup`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, or_
from sqlmodel import Session, col, select

from storage.models import (
    PERSONAL_ITEM_TYPES,
    Answer,
    AuditEntry,
    CheckIn,
    Experiment,
    LearningEntry,
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
    learning: list[LearningEntry] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(
            (
                self.answers,
                self.experiments,
                self.check_ins,
                self.plan_items,
                self.profile,
                self.learning,
            )
        )


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
        experiments=[as_shared(e) for e in rows(Experiment)],
        check_ins=rows(CheckIn),
        plan_items=rows(PlanItem),
        profile=rows(ProfileEntry),
        learning=rows(LearningEntry),
    )


def as_shared(experiment: Experiment) -> Experiment:
    """The experiment as its manager may see it: without its lesson while the owner keeps that
    private (a detached copy; the stored row is untouched)."""
    if not experiment.lesson_private:
        return experiment
    return experiment.model_copy(update={"learned": None, "keep_doing": None})


def shared_with_manager(db: Session, owner: Person) -> SharedItems:
    """The owner's own preview: everything their manager could see right now."""
    assert owner.id is not None
    return _shared(db, owner.id)


@dataclass(frozen=True)
class Reader:
    """Who really reads another person's data: a person Regie knows (a manager, HR, a
    campaign's owner), or an administrator at the command line, named by their operating
    system user or ``--operator``."""

    person_id: int | None = None
    operator: str | None = None

    @classmethod
    def of(cls, person: Person) -> Reader:
        assert person.id is not None
        return cls(person_id=person.id)

    @classmethod
    def administrator(cls, name: str) -> Reader:
        return cls(operator=name.strip() or "unknown")

    def detail(self) -> dict[str, Any]:
        return {"operator": self.operator} if self.operator is not None else {}


ADMIN_READ = "admin_read"
"""The audit action of an administrator's read at the command line (``detail``: ``operator``,
and ``what``: export, digest, sign_ups)."""
MANAGER_READ = "manager_read"


def record_reads(
    db: Session,
    *,
    reader: Reader,
    subjects: Iterable[int],
    at: datetime,
    action: str | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One audit entry per person whose data ``reader`` saw: what "who has seen my data" shows.
    ``action`` defaults to ``manager_read`` for a person and ``admin_read`` for an
    administrator."""
    chosen = action or (MANAGER_READ if reader.operator is None else ADMIN_READ)
    details = reader.detail() | dict(detail or {})
    rows = [
        {
            "at": at,
            "actor_id": reader.person_id,
            "subject_id": subject,
            "action": chosen,
            "detail": details,
        }
        for subject in sorted(set(subjects))
    ]
    if rows:  # one INSERT for them all: an owner's campaign page audits hundreds of sign-ups
        db.connection().execute(insert(AuditEntry), rows)


def read_team(
    db: Session,
    *,
    manager: Person,
    since: datetime | None,
    now: datetime | None = None,
    audited: bool = True,
) -> dict[int, SharedItems]:
    """What each direct report shared with this manager (new since ``since``): one query per
    kind of item for the whole team. Audited (one entry per report who shared something, read
    by the manager) unless ``audited=False``: only for a digest on its way, whose reads the
    delivery records with :func:`record_reads` when it reaches the manager."""
    assert manager.id is not None
    team = read_teams(db, managers=[manager], since={manager.id: since})[manager.id]
    if audited:
        record_reads(
            db,
            reader=Reader.of(manager),
            subjects=[report for report, items in team.shared.items() if items],
            at=now or utcnow(),
        )
    return team.shared


@dataclass(frozen=True)
class Team:
    """A manager's direct reports (by name) and what each of them shared with the manager."""

    reports: list[Person]
    shared: dict[int, SharedItems]


def read_teams(
    db: Session, *, managers: Sequence[Person], since: Mapping[int, datetime | None]
) -> dict[int, Team]:
    """:func:`read_team` for many managers at once, by manager id, audited by no one: the
    caller records each manager's reads (:func:`record_reads`) when that manager reads them.
    One query for the reports and one per kind of item for all the teams together (each
    manager's ``since``, None: everything shared, applied to their own team's items), so
    composing every digest costs a few queries per batch of managers, not per manager."""
    ids = [m.id for m in managers if m.id is not None]
    teams = {manager_id: Team([], {}) for manager_id in ids}
    if not ids:
        return teams
    owner_of: dict[int, int] = {}
    for report in db.exec(
        select(Person).where(col(Person.manager_id).in_(ids)).order_by(col(Person.name))
    ):
        if report.id is not None and report.manager_id is not None:
            teams[report.manager_id].reports.append(report)
            teams[report.manager_id].shared[report.id] = SharedItems()
            owner_of[report.id] = report.manager_id
    if not owner_of:
        return teams
    team_members = select(Person.id).where(col(Person.manager_id).in_(ids))
    moments = [since.get(manager_id) for manager_id in ids]
    earliest = None if None in moments else min(m for m in moments if m is not None)

    def rows(item_type: Any, *changed: Any) -> Iterator[tuple[Any, SharedItems]]:
        """The shared items of this kind, each with the SharedItems of its owner: the items
        changed after the owner's manager's ``since``."""
        query = (
            select(item_type)
            .where(col(item_type.person_id).in_(team_members))
            .where(item_type.visibility == Visibility.MANAGER)
            .order_by(col(item_type.created_at), col(item_type.id))
        )
        if earliest is not None:
            query = query.where(or_(*(col(c) > earliest for c in changed)))
        for row in db.exec(query):
            after = since.get(owner_of[row.person_id])
            if after is None or any(getattr(row, c.key) > after for c in changed):
                yield row, teams[owner_of[row.person_id]].shared[row.person_id]

    for answer, found in rows(Answer, Answer.created_at):
        found.answers.append(answer)
    for experiment, found in rows(Experiment, Experiment.created_at, Experiment.updated_at):
        found.experiments.append(as_shared(experiment))
    for check_in, found in rows(CheckIn, CheckIn.created_at):
        found.check_ins.append(check_in)
    for item, found in rows(PlanItem, PlanItem.created_at):
        found.plan_items.append(item)
    for entry, found in rows(ProfileEntry, ProfileEntry.created_at):
        found.profile.append(entry)
    for learned, found in rows(LearningEntry, LearningEntry.created_at):
        found.learning.append(learned)
    return teams


def item_refs(items: SharedItems) -> list[str]:
    """Stable references of the items (``experiment:12``): what a queued digest was made of,
    to tell at delivery whether all of it is still shared."""
    refs: list[str] = []
    for kind, rows in (
        ("answer", items.answers),
        ("experiment", items.experiments),
        ("check_in", items.check_ins),
        ("plan_item", items.plan_items),
        ("profile_entry", items.profile),
        ("learning_entry", items.learning),
    ):
        refs += [f"{kind}:{row.id}" for row in rows]
    return refs


def who_sees(db: Session, owner: Person) -> Person | None:
    """Who sees an item of ``owner`` once it is shared: their manager (None without one). For
    the flows' "James will see this" before new text joins an item that is already shared."""
    return db.get(Person, owner.manager_id) if owner.manager_id else None


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


def keep_lesson_private(
    db: Session, *, owner_id: int, experiment_id: int, private: bool = True
) -> Experiment | None:
    """Keep an experiment's lesson (what it taught, what to keep doing) private while the
    experiment itself stays shared — or share it after all. None when it is not the owner's."""
    experiment = db.get(Experiment, experiment_id)
    if experiment is None or experiment.person_id != owner_id:
        return None
    experiment.lesson_private = private
    db.add(experiment)
    return experiment


def min_group_size(configured: int) -> int:
    """The group size aggregates need: the configured one, never below the floor."""
    return max(configured, MIN_GROUP_FLOOR)


HIDDEN = "×"
"""How a cell hidden to protect another shows (see :meth:`MinimumGroup.partition`)."""


@dataclass(frozen=True)
class Cells:
    """Counts of people that split one group, as they may be shown: None is hidden, and every
    hidden cell shows the same ``marker`` (``<K``, or ``×`` when cells were hidden to protect
    others: then nobody can tell which hidden cell is the small one)."""

    counts: tuple[int | None, ...]
    marker: str

    def shown(self, index: int) -> str:
        value = self.counts[index]
        return self.marker if value is None else str(value)

    def __len__(self) -> int:
        return len(self.counts)


@dataclass(frozen=True)
class MinimumGroup:
    """The one ``<K`` rule, for every figure about people that someone else sees (HR's
    reports, campaign figures, a manager's team counts): a figure is drawn only from a group of
    at least K people, and a count of people in it is shown only when it is 0 or at least K —
    anything between would single people out, and shows as ``<K``. Cells that add up to a total
    that is shown too are protected together (:meth:`partition`), so that no hidden cell can be
    worked out by subtraction."""

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

    def partition(
        self, counts: Sequence[int], *, sensitive: Collection[int] | None = None
    ) -> Cells:
        """Cells that split one group of people (each person in exactly one cell), when the
        group's size may be known (shown next to them, or worked out elsewhere): the
        ``sensitive`` cells (default: all) under the ``<K`` rule, then complementary
        suppression — more cells hidden, the smallest first — until what can be worked out
        from the shown cells and the total (the sum of the hidden cells, and the range each
        hidden cell can take) singles nobody out:

        - the hidden cells together hold at least K people (or all of the group), and
        - every hidden cell can still take at least two values.

        When only small cells are hidden and that holds, they show as ``<K``; once a cell is
        hidden to protect another, every hidden cell shows as ``×`` (a ``<K`` next to an
        ``×`` would tell which is which)."""
        values = [int(n) for n in counts]
        total = sum(values)
        which = range(len(values)) if sensitive is None else sorted(set(sensitive))
        small_group = not self.allows_group(total)
        hidden = {i for i in which if self.count(values[i], group=total) is None}
        if not hidden or total == 0:
            return Cells(
                tuple(None if i in hidden else v for i, v in enumerate(values)), self.cell(None)
            )
        low = 0 if small_group else 1
        if self._safe(values, hidden, total, low=low, high=total if small_group else self.k - 1):
            return Cells(
                tuple(None if i in hidden else v for i, v in enumerate(values)), self.cell(None)
            )
        while True:
            shown = sorted((v, i) for i, v in enumerate(values) if i not in hidden and v > 0)
            if not shown:
                hidden = set(range(len(values)))  # nothing else to hide behind: hide it all
                low = 0
                break
            hidden.add(shown[0][1])
            if self._safe(values, hidden, total, low=low, high=total):
                break
        return Cells(tuple(None if i in hidden else v for i, v in enumerate(values)), HIDDEN)

    def _safe(
        self, values: Sequence[int], hidden: set[int], total: int, *, low: int, high: int
    ) -> bool:
        """Whether hidden cells, each known to lie in ``[low, high]``, stay hidden given the
        shown ones and the total: their sum (worked out by subtraction) is at least K or the
        whole group, and no single one is pinned to one value."""
        together = sum(values[i] for i in hidden)
        if together < self.k and together != total:
            return False
        others = len(hidden) - 1
        least = max(low, together - others * high)
        most = min(high, together - others * low)
        return most > least


@dataclass(frozen=True)
class TeamCounts:
    """Counts only, never text, and only over a group of at least the minimum size."""

    people: int
    with_experiment: int
    checked_in: int


def team_counts(
    db: Session,
    *,
    manager: Person,
    since: datetime,
    min_group: int,
    now: datetime | None = None,
    reader: Reader | None = None,
) -> TeamCounts | None:
    """How the manager's direct reports who allow aggregates are doing, as counts; None when
    that group is smaller than ``min_group`` (never below the floor). Audited as read by
    ``reader`` (None: not now — a digest on its way is audited when it is delivered)."""
    assert manager.id is not None
    teams = {manager.id: direct_reports(db, manager.id)}
    counts = teams_counts(db, teams=teams, since=since, min_group=min_group)[manager.id]
    if counts is not None and reader is not None:
        record_aggregate(db, reader=reader, people=counts.people, at=now or utcnow())
    return counts


def teams_counts(
    db: Session, *, teams: Mapping[int, Sequence[Person]], since: datetime, min_group: int
) -> dict[int, TeamCounts | None]:
    """:func:`team_counts` for many managers' ``teams`` (their direct reports, by manager id)
    at once, in two queries, audited by no one (the caller records each manager's read)."""
    rule = MinimumGroup.configured(min_group)
    counted = {
        manager_id: [p.id for p in reports if p.in_aggregates and p.id is not None]
        for manager_id, reports in teams.items()
    }
    counted = {m: reports for m, reports in counted.items() if rule.allows_group(len(reports))}
    everyone = [report for reports in counted.values() for report in reports]
    experimenting: set[int] = set()
    checked: set[int] = set()
    if everyone:
        experimenting = set(
            db.exec(
                select(Experiment.person_id).where(
                    col(Experiment.person_id).in_(everyone),
                    col(Experiment.in_aggregates),
                    col(Experiment.updated_at) >= since,
                )
            )
        )
        checked = set(
            db.exec(
                select(CheckIn.person_id).where(
                    col(CheckIn.person_id).in_(everyone),
                    col(CheckIn.in_aggregates),
                    col(CheckIn.created_at) >= since,
                )
            )
        )
    return {
        manager_id: (
            TeamCounts(
                len(counted[manager_id]),
                len(experimenting.intersection(counted[manager_id])),
                len(checked.intersection(counted[manager_id])),
            )
            if manager_id in counted
            else None
        )
        for manager_id in teams
    }


def record_aggregate(db: Session, *, reader: Reader, people: int, at: datetime) -> None:
    """A manager's team counts were read: about a group, never a person (no subject)."""
    db.add(
        AuditEntry(
            at=at,
            actor_id=reader.person_id,
            action="manager_aggregate",
            detail=reader.detail() | {"people": people},
        )
    )


def seen_by(db: Session, person_id: int) -> list[tuple[AuditEntry, Person | None]]:
    """Who read this person's data, newest first, with the reader when they are a person
    Regie still knows (None: an administrator — ``entry.detail["operator"]`` names them — or
    someone who has since left). :func:`readings` says which is which."""
    entries = db.exec(
        select(AuditEntry)
        .where(AuditEntry.subject_id == person_id)
        .order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc())
        .limit(50)
    )
    return [(e, db.get(Person, e.actor_id) if e.actor_id else None) for e in entries]


def reads_by(db: Session, person_id: int) -> list[AuditEntry]:
    """Every read of someone else's data this person did, oldest first: the entries that name
    another person as their subject, the other side of :func:`seen_by`. An audit of an
    action about no one's data (a campaign launched or approved) names no subject and is not
    a read; a read at the command line is the administrator's, with no person as actor."""
    return list(
        db.exec(
            select(AuditEntry)
            .where(AuditEntry.actor_id == person_id)
            .where(col(AuditEntry.subject_id).is_not(None))
            .where(AuditEntry.subject_id != person_id)
            .order_by(col(AuditEntry.at), col(AuditEntry.id))
        )
    )


@dataclass(frozen=True)
class Reading:
    """One read of a person's data, as "who has seen my data" tells it."""

    at: datetime
    what: str
    """``digest`` (their manager's digest, delivered or asked for in chat), ``sign_ups`` (a
    campaign's list of who signed up for a workshop), ``export`` (all of their data, exported
    at the command line), or the audit action itself for anything else."""
    reader: Person | None
    """The person who read it, when Regie still knows them."""
    operator: str | None
    """An administrator at the command line: their operating system user or ``--operator``."""

    @property
    def by_administrator(self) -> bool:
        return self.operator is not None

    @property
    def by_someone_gone(self) -> bool:
        return self.reader is None and self.operator is None


WHAT = {MANAGER_READ: "digest", "campaign_sign_ups": "sign_ups", "agenda_read": "agenda"}


def readings(db: Session, person_id: int) -> list[Reading]:
    """Every read of this person's data by someone else, newest first (the last 50)."""
    found: list[Reading] = []
    for entry, reader in seen_by(db, person_id):
        operator = entry.detail.get("operator") if isinstance(entry.detail, dict) else None
        what = str(entry.detail.get("what") or entry.action) if operator else entry.action
        found.append(
            Reading(
                at=entry.at,
                what=WHAT.get(what, what),
                reader=reader,
                operator=str(operator) if operator else None,
            )
        )
    return found
