"""Queries over a person's own items. Reads of *another* person's data go through
:mod:`storage.privacy` instead, which checks the relationship and writes the audit log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import (
    PERSONAL_ITEM_TYPES,
    Answer,
    CheckIn,
    DialogSession,
    Experiment,
    ExperimentStatus,
    Person,
    PlanItem,
    ProfileEntry,
    SharedItem,
    Visibility,
    table_name,
)

T = TypeVar("T", bound=SharedItem)

OPEN_EXPERIMENT_STATES = (ExperimentStatus.PLANNED, ExperimentStatus.DOING)


def owned_by(person: Person, *, now: datetime) -> dict[str, Any]:
    """Owner and privacy fields for a new item: the person's *current* defaults apply to new
    items only; changing the default never shares anything retroactively."""
    return {
        "person_id": person.id,
        "visibility": person.default_visibility,
        "in_aggregates": person.in_aggregates,
        "created_at": now,
    }


def set_experiment_status(item: Experiment, status: str, *, now: datetime) -> None:
    """Move an experiment to a new state; ``done_at`` tracks when it was (last) done."""
    item.status = ExperimentStatus(status)
    item.updated_at = now
    item.done_at = now if item.status == ExperimentStatus.DONE else None


def own(db: Session, item_type: type[T], person_id: int, item_id: int) -> T | None:
    """One of the person's own items by id, or None when it is not theirs."""
    item = db.get(item_type, item_id)
    return item if item is not None and item.person_id == person_id else None


def experiments(db: Session, person_id: int) -> list[Experiment]:
    return list(
        db.exec(
            select(Experiment)
            .where(Experiment.person_id == person_id)
            .order_by(col(Experiment.created_at), col(Experiment.id))
        )
    )


def _local_year(instant: datetime, zone: str) -> int:
    """The calendar year an instant falls in where the person lives (New Year is local)."""
    return instant.astimezone(ZoneInfo(zone)).year


def experiments_of_year(
    db: Session, person: Person, year: int, *, read: Sequence[Experiment] | None = None
) -> list[Experiment]:
    """What "my experiments" shows: this calendar year's, and older ones still open. ``read``:
    the person's ``experiments``, when the caller has them already."""
    assert person.id is not None
    return [
        e
        for e in (experiments(db, person.id) if read is None else read)
        if _local_year(e.created_at, person.timezone) == year or e.status in OPEN_EXPERIMENT_STATES
    ]


def open_experiments(db: Session, person_id: int) -> list[Experiment]:
    return [e for e in experiments(db, person_id) if e.status in OPEN_EXPERIMENT_STATES]


def done_in_year(
    db: Session, person: Person, year: int, *, read: Sequence[Experiment] | None = None
) -> list[Experiment]:
    """Experiments done in a calendar year of the person's own: the n of "n/3". ``read``: as
    for ``experiments_of_year``."""
    assert person.id is not None
    return [
        e
        for e in (experiments(db, person.id) if read is None else read)
        if e.status == ExperimentStatus.DONE
        and e.done_at is not None
        and _local_year(e.done_at, person.timezone) == year
    ]


def open_plan_items(db: Session, person_id: int) -> list[PlanItem]:
    return list(
        db.exec(
            select(PlanItem)
            .where(PlanItem.person_id == person_id, PlanItem.status == "open")
            .order_by(col(PlanItem.created_at), col(PlanItem.id))
        )
    )


def profile_entries(db: Session, person_id: int) -> list[ProfileEntry]:
    return list(
        db.exec(
            select(ProfileEntry)
            .where(ProfileEntry.person_id == person_id)
            .order_by(col(ProfileEntry.created_at), col(ProfileEntry.id))
        )
    )


def recent_question_ids(db: Session, person_id: int, *, dialog_id: str, limit: int) -> list[str]:
    """Question ids of the person's latest answers, newest first (for rotation)."""
    rows = db.exec(
        select(Answer.question_id)
        .where(Answer.person_id == person_id, Answer.dialog_id == dialog_id)
        .order_by(col(Answer.created_at).desc(), col(Answer.id).desc())
        .limit(limit)
    )
    return list(rows)


def all_items(db: Session, person_id: int) -> list[tuple[str, SharedItem]]:
    """Every item of the person's, newest first, with its table name (the privacy centre)."""
    found: list[tuple[str, SharedItem]] = []
    for item_type in PERSONAL_ITEM_TYPES:
        rows = db.exec(select(item_type).where(item_type.person_id == person_id))
        found += [(table_name(item_type), row) for row in rows]
    found.sort(key=lambda pair: pair[1].created_at, reverse=True)
    return found


def has_any_items(db: Session, person_id: int) -> bool:
    return any(
        db.exec(select(t.id).where(t.person_id == person_id).limit(1)).first() is not None
        for t in PERSONAL_ITEM_TYPES
    )


def sharing_counts(db: Session, person_id: int) -> tuple[int, int]:
    """How many items the person has, and how many of them are shared with their manager."""
    total = shared = 0
    for item_type in PERSONAL_ITEM_TYPES:
        for visibility in db.exec(
            select(item_type.visibility).where(item_type.person_id == person_id)
        ):
            total += 1
            shared += visibility == Visibility.MANAGER
    return total, shared


def last_checkin_at(db: Session, person_id: int) -> datetime | None:
    return db.exec(select(func.max(CheckIn.created_at)).where(CheckIn.person_id == person_id)).one()


def reflections_since(db: Session, person_id: int, *, since: datetime) -> list[Answer]:
    """The person's reflection answers since ``since``, oldest first."""
    return list(
        db.exec(
            select(Answer)
            .where(Answer.person_id == person_id, Answer.dialog_id == "reflection")
            .where(col(Answer.created_at) >= since)
            .order_by(col(Answer.created_at), col(Answer.id))
        )
    )


def reflection_conversations(db: Session, person_id: int, *, since: datetime) -> int:
    """How many reflection conversations since ``since`` saved at least one answer (what "you
    reflected n times" counts): the answers grouped by the conversation they were given in,
    the dialog session whose span holds them. Answers without one (imported, or from before
    sessions were kept) count one conversation per day."""
    answers = reflections_since(db, person_id, since=since)
    if not answers:
        return 0
    spans = db.exec(
        select(DialogSession.id, DialogSession.created_at, DialogSession.updated_at).where(
            DialogSession.person_id == person_id,
            DialogSession.dialog_id == "reflection",
            col(DialogSession.updated_at) >= answers[0].created_at,
        )
    ).all()
    conversations: set[tuple[str, object]] = set()
    for answer in answers:
        session = next((i for i, start, end in spans if start <= answer.created_at <= end), None)
        conversations.add(
            ("session", session) if session is not None else ("day", answer.created_at.date())
        )
    return len(conversations)
