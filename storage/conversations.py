"""Growth conversations: planned talks between an employee and their manager about the
employee's development (seed 004's conversation cycle, distinct from appraisal).

Either side sets the date. The employee's prep (what I want to talk about, what went well,
what I need, and items they already shared to bring along) is theirs alone until they bring it
(``agenda_shared_at``); the manager then reads it with :func:`read_agenda`, guarded (their own
direct report, their own conversation) and audited like a digest. A brought item made private
since drops out of the agenda. After the date each side can note one agreement: the
employee's becomes their plan item at once; the manager's is shown to the employee, who
decides whether it joins their plan (nothing lands in someone's plan without their say).
Either side may set a rhythm (``person.growth_rhythm_months``): :func:`rhythm_date` proposes
the next date from the last conversation, for one of them to confirm.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, col, select

from storage.models import (
    Answer,
    CheckIn,
    ConversationSide,
    ConversationStatus,
    Experiment,
    GrowthConversation,
    LearningEntry,
    Outbound,
    OutboxState,
    Person,
    PlanItem,
    ProfileEntry,
    SharedItem,
    Visibility,
    table_name,
)
from storage.outbox import mark_skipped
from storage.privacy import ITEM_TYPES, Reader, SharedItems, as_shared, record_reads

AFTER_DAYS = 21
"""After the date, agreements are asked for this long; then the conversation is left be."""
MAX_BROUGHT = 3
AGENDA_READ = "agenda_read"
"""The audit action of a manager reading an agenda ("who has seen my data": ``agenda``)."""
RHYTHMS = (1, 2, 3, 6)
"""The rhythms on offer: a growth conversation every this many months."""
LEAD_DAYS = 7
"""A date the rhythm proposes is at least this far ahead (time to prepare, and to agree)."""


def upcoming(db: Session, person_id: int, *, today: date) -> GrowthConversation | None:
    """The employee's next planned conversation, today or later."""
    return db.exec(
        select(GrowthConversation)
        .where(GrowthConversation.person_id == person_id)
        .where(GrowthConversation.status == ConversationStatus.PLANNED)
        .where(col(GrowthConversation.planned_for) >= today)
        .order_by(col(GrowthConversation.planned_for), col(GrowthConversation.id))
    ).first()


def _finished(conversation: GrowthConversation, side: ConversationSide) -> bool:
    if side == ConversationSide.EMPLOYEE:
        return conversation.employee_agreement is not None
    return conversation.manager_note is not None


def current(
    db: Session, person_id: int, *, today: date, side: ConversationSide
) -> GrowthConversation | None:
    """The conversation ``side`` has something to do for: a recent one (up to today) whose
    agreement they have not noted or waved off yet, else the next one."""
    found = db.exec(
        select(GrowthConversation)
        .where(GrowthConversation.person_id == person_id)
        .where(GrowthConversation.status == ConversationStatus.PLANNED)
        .where(col(GrowthConversation.planned_for) >= today - timedelta(days=AFTER_DAYS))
        .order_by(col(GrowthConversation.planned_for), col(GrowthConversation.id))
    )
    for conversation in found:
        if conversation.planned_for > today or not _finished(conversation, side):
            return conversation
    return None


def pending_note(db: Session, person_id: int) -> GrowthConversation | None:
    """A conversation whose manager noted an agreement the employee has not decided on."""
    return db.exec(
        select(GrowthConversation)
        .where(GrowthConversation.person_id == person_id)
        .where(col(GrowthConversation.manager_note).is_not(None))
        .where(col(GrowthConversation.manager_note_added).is_(None))
        .order_by(col(GrowthConversation.planned_for).desc(), col(GrowthConversation.id).desc())
    ).first()


def plan(
    db: Session,
    *,
    employee: Person,
    planned_for: date,
    set_by: ConversationSide,
    now: datetime,
) -> GrowthConversation:
    """A new conversation with the employee's current manager."""
    assert employee.id is not None
    conversation = GrowthConversation(
        person_id=employee.id,
        manager_id=employee.manager_id,
        planned_for=planned_for,
        set_by=set_by,
        created_at=now,
        updated_at=now,
    )
    db.add(conversation)
    db.flush()
    return conversation


def move(conversation: GrowthConversation, planned_for: date, *, now: datetime) -> None:
    conversation.planned_for = planned_for
    conversation.updated_at = now


def cancel(conversation: GrowthConversation, *, now: datetime) -> None:
    conversation.status = ConversationStatus.CANCELLED
    conversation.updated_at = now


def months_after(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (the 31st becomes the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return day.replace(
        year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1])
    )


def last_held(db: Session, person_id: int, *, today: date) -> GrowthConversation | None:
    """The employee's latest conversation dated up to today (not cancelled)."""
    return db.exec(
        select(GrowthConversation)
        .where(GrowthConversation.person_id == person_id)
        .where(GrowthConversation.status == ConversationStatus.PLANNED)
        .where(col(GrowthConversation.planned_for) <= today)
        .order_by(col(GrowthConversation.planned_for).desc(), col(GrowthConversation.id).desc())
    ).first()


def rhythm_date(db: Session, employee: Person, *, today: date) -> date | None:
    """The next date the employee's rhythm proposes: that many months after the last
    conversation, and at least :data:`LEAD_DAYS` ahead (a rhythm that lapsed starts again
    soon). None without a rhythm or a conversation to count from (the first date is agreed,
    not computed). The caller moves it to a working day."""
    months = employee.growth_rhythm_months
    if not months or employee.id is None:
        return None
    last = last_held(db, employee.id, today=today)
    if last is None:
        return None
    return max(months_after(last.planned_for, months), today + timedelta(days=LEAD_DAYS))


def withdraw(db: Session, keys: Iterable[str], *, reason: str) -> list[Outbound]:
    """Skip the messages with these idempotency keys (or calm's moved copies of them,
    ``<key>@…``) that have not gone yet: a moved or cancelled conversation's old nudges.
    Returns the rows skipped."""
    keys = list(keys)
    if not keys:
        return []
    matches = [col(Outbound.idempotency_key).in_(keys)] + [
        col(Outbound.idempotency_key).startswith(f"{key}@", autoescape=True) for key in keys
    ]
    rows = db.exec(
        select(Outbound)
        .where(or_(*matches))
        .where(col(Outbound.state).in_([OutboxState.PENDING, OutboxState.FAILED]))
    ).all()
    for row in rows:
        mark_skipped(row, reason=reason)
        db.add(row)
    return list(rows)


def item_ref(item: SharedItem) -> str:
    return f"{table_name(type(item))}:{item.id}"


def bringable(db: Session, owner_id: int, *, limit: int = 8) -> list[SharedItem]:
    """The owner's items already shared with their manager, newest first: what they can pick
    to bring (bringing one shares nothing new)."""
    found: list[SharedItem] = []
    for item_type in ITEM_TYPES.values():
        found += db.exec(
            select(item_type)
            .where(item_type.person_id == owner_id)
            .where(item_type.visibility == Visibility.MANAGER)
        )
    found.sort(key=lambda item: (item.created_at, item.id or 0), reverse=True)
    return found[:limit]


@dataclass(frozen=True)
class Agenda:
    """What the manager sees of a prepared conversation: the employee's three short texts and
    the brought items still shared with them."""

    conversation: GrowthConversation
    topics: str = ""
    went_well: str = ""
    needs: str = ""
    items: SharedItems = field(default_factory=SharedItems)

    def __bool__(self) -> bool:
        return bool(self.topics or self.went_well or self.needs or self.items)


def _brought(db: Session, owner_id: int, refs: Iterable[str]) -> SharedItems:
    kinds: dict[type[Any], list[Any]] = {t: [] for t in ITEM_TYPES.values()}
    for ref in refs:
        table, _, item_id = ref.partition(":")
        item_type = ITEM_TYPES.get(table)
        if item_type is None or not item_id.isdigit():
            continue
        item = db.get(item_type, int(item_id))
        if item is not None and item.person_id == owner_id and item.visibility == "manager":
            kinds[item_type].append(item)
    return SharedItems(
        answers=kinds[Answer],
        experiments=[as_shared(e) for e in kinds[Experiment]],
        check_ins=kinds[CheckIn],
        plan_items=kinds[PlanItem],
        profile=kinds[ProfileEntry],
        learning=kinds[LearningEntry],
    )


def agenda_of(db: Session, conversation: GrowthConversation) -> Agenda:
    """The agenda as the manager would see it once brought: the owner's own preview."""
    return Agenda(
        conversation,
        topics=conversation.topics,
        went_well=conversation.went_well,
        needs=conversation.needs,
        items=_brought(db, conversation.person_id, conversation.brought),
    )


def read_agenda(
    db: Session, *, manager: Person, conversation: GrowthConversation, now: datetime
) -> Agenda | None:
    """The agenda the employee brought, for their manager: None when it is not theirs to read
    (not their direct report, not their conversation) or nothing was brought. A read of
    something is audited (:data:`AGENDA_READ`)."""
    employee = db.get(Person, conversation.person_id)
    if (
        manager.id is None
        or employee is None
        or employee.manager_id != manager.id
        or conversation.manager_id != manager.id
        or conversation.agenda_shared_at is None
    ):
        return None
    agenda = agenda_of(db, conversation)
    if not agenda:
        return None
    record_reads(
        db,
        reader=Reader.of(manager),
        subjects=[conversation.person_id],
        at=now,
        action=AGENDA_READ,
        detail={"conversation": conversation.id},
    )
    return agenda


def to_nudge(db: Session, *, today: date, changed_since: datetime) -> list[GrowthConversation]:
    """Planned conversations the nudge rules may have something to say about: dated from a
    little over :data:`AFTER_DAYS` ago to ``horizon`` days ahead, or set since
    ``changed_since`` (the other side hears of a new date)."""
    return list(
        db.exec(
            select(GrowthConversation)
            .where(GrowthConversation.status == ConversationStatus.PLANNED)
            .where(col(GrowthConversation.planned_for) >= today - timedelta(days=AFTER_DAYS + 2))
            .where(
                or_(
                    col(GrowthConversation.planned_for) <= today + timedelta(days=7),
                    col(GrowthConversation.created_at) >= changed_since,
                )
            )
            .order_by(col(GrowthConversation.id))
        )
    )


def names(db: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = db.exec(select(Person.id, Person.name).where(col(Person.id).in_(wanted))).all()
    return {i: name for i, name in rows if i is not None}


def rows_of(db: Session, person_id: int) -> dict[str, list[dict[str, Any]]]:
    """For an export: the person's own conversations in full, and of the ones they held as a
    manager what they wrote (the date and their note; the employee's prep is not theirs)."""
    own = db.exec(
        select(GrowthConversation)
        .where(GrowthConversation.person_id == person_id)
        .order_by(col(GrowthConversation.id))
    )
    held = db.exec(
        select(GrowthConversation)
        .where(GrowthConversation.manager_id == person_id)
        .order_by(col(GrowthConversation.id))
    )
    return {
        "growth_conversation": [_json(c.model_dump()) for c in own],
        "growth_conversation_as_manager": [
            {"id": c.id, "planned_for": c.planned_for.isoformat(), "manager_note": c.manager_note}
            for c in held
        ],
    }


def _json(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in data.items()}


def forget(db: Session, person_id: int) -> None:
    """The person's own conversations go; in those they held as a manager, their note goes
    and they are no longer named."""
    db.exec(delete(GrowthConversation).where(col(GrowthConversation.person_id) == person_id))
    db.exec(
        update(GrowthConversation)
        .where(col(GrowthConversation.manager_id) == person_id)
        .values(manager_id=None, manager_note=None)
    )
