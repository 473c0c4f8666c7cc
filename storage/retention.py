"""How long Regie keeps what people wrote, when the organisation sets a limit
(``REGIE_RETENTION_MONTHS``; off by default: kept until the person deletes it).

An item counts from its last change (an experiment's last update, a plan item's completion,
anything else from when it was written). Nothing is deleted unannounced: the person gets a
notice (an outbox message of kind ``retention``, written by ``dialogs/nudges/retention.py``)
naming the day, and only the items that notice covers go, that many days later. Finished
conversations (dialog sessions) older than the limit go with them, and so do growth
conversations (the employee's prep and agreements) dated and last changed before it.
"""

from __future__ import annotations

import calendar
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from storage.models import (
    PERSONAL_ITEM_TYPES,
    AuditEntry,
    DialogSession,
    Experiment,
    GrowthConversation,
    Outbound,
    OutboxState,
    PlanItem,
    SessionStatus,
    SharedItem,
)

NOTICE_KIND = "retention"
NOTICE_EVERY_DAYS = 28
"""A person is told at most once in this many days (each notice covers everything that comes
due by its deletion day)."""


def months_before(moment: datetime, months: int) -> datetime:
    """The same moment ``months`` calendar months earlier (the 31st becomes the month's last
    day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _changed(item_type: type[SharedItem]) -> Any:
    """When an item last changed, as SQL."""
    if item_type is Experiment:
        return col(Experiment.updated_at)
    if item_type is PlanItem:
        return func.coalesce(PlanItem.done_at, PlanItem.created_at)
    return col(item_type.created_at)


def _old_conversations(before: datetime) -> ColumnElement[bool]:
    """Growth conversations dated and last changed before ``before`` (one planned far ahead
    is not old, however long ago it was set)."""
    return and_(
        col(GrowthConversation.updated_at) < before,
        col(GrowthConversation.planned_for) < before.date(),
    )


def expiring(db: Session, *, before: datetime) -> dict[int, int]:
    """Per person, how many of their items (and growth conversations) last changed before
    ``before``."""
    counts: dict[int, int] = {}
    queries = [
        select(item_type.person_id, func.count())
        .where(_changed(item_type) < before)
        .group_by(col(item_type.person_id))
        for item_type in PERSONAL_ITEM_TYPES
    ]
    queries.append(
        select(GrowthConversation.person_id, func.count())
        .where(_old_conversations(before))
        .group_by(col(GrowthConversation.person_id))
    )
    for query in queries:
        for person_id, n in db.exec(query):
            counts[person_id] = counts.get(person_id, 0) + int(n)
    return counts


def last_notices(db: Session, *, since: datetime) -> dict[int, datetime]:
    """Per person, when their latest retention notice was due (those due after ``since``)."""
    rows = db.exec(
        select(Outbound.person_id, func.max(Outbound.created_at))
        .where(Outbound.kind == NOTICE_KIND, col(Outbound.created_at) >= since)
        .group_by(col(Outbound.person_id))
    )
    return {person_id: at for person_id, at in rows}


def notices_due(db: Session, *, since: datetime, until: datetime) -> list[tuple[int, datetime]]:
    """Retention notices that went (or wait in the console) with their due time in
    ``[since, until]``: (person, when it was due). A notice that died or was skipped told
    nobody, and counts for nothing."""
    rows = db.exec(
        select(Outbound.person_id, Outbound.created_at)
        .where(Outbound.kind == NOTICE_KIND)
        .where(col(Outbound.state).not_in([OutboxState.DEAD, OutboxState.SKIPPED]))
        .where(col(Outbound.created_at) >= since, col(Outbound.created_at) <= until)
    )
    return [(person_id, at) for person_id, at in rows]


def delete_expired(db: Session, person_id: int, *, before: datetime, now: datetime) -> int:
    """Delete the person's items that last changed before ``before``, and their finished
    conversations from before then. Returns how many items went; the audit log keeps how
    many, never what."""
    deleted = 0
    for item_type in PERSONAL_ITEM_TYPES:
        result = db.connection().execute(
            delete(item_type).where(
                col(item_type.person_id) == person_id, _changed(item_type) < before
            )
        )
        deleted += int(result.rowcount)
    result = db.connection().execute(
        delete(GrowthConversation).where(
            col(GrowthConversation.person_id) == person_id, _old_conversations(before)
        )
    )
    deleted += int(result.rowcount)
    db.connection().execute(
        delete(DialogSession).where(
            col(DialogSession.person_id) == person_id,
            col(DialogSession.status) != SessionStatus.ACTIVE,
            col(DialogSession.updated_at) < before,
        )
    )
    if deleted:
        db.add(AuditEntry(at=now, action="retention_deleted", detail={"items": deleted}))
    return deleted
