"""The outbox: every message the bot starts on its own, from decision to delivery.

States: pending -> sending -> sent | failed (tried again after ``not_before``) | dead (a
permanent error, with its reason) | skipped (no longer relevant). Workers claim due rows; on
PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so several processes never take the same row.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from storage.db import insert_many_if_new
from storage.models import Outbound, OutboxState

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=2)


@dataclass(frozen=True)
class Queued:
    """A message to add to the outbox."""

    key: str
    person_id: int
    kind: str
    payload: list[dict[str, Any]]
    not_before: datetime
    state: str = OutboxState.PENDING
    campaign_id: int | None = None
    note: str | None = None
    """Kept as ``last_error``: why a message is recorded as skipped."""

    def row(self) -> dict[str, Any]:
        return {
            "idempotency_key": self.key,
            "person_id": self.person_id,
            "kind": self.kind,
            "payload": self.payload,
            "state": self.state,
            "attempts": 0,
            "not_before": self.not_before,
            "created_at": self.not_before,
            "campaign_id": self.campaign_id,
            "last_error": self.note,
        }


def enqueue(
    db: Session,
    *,
    key: str,
    person_id: int,
    kind: str,
    payload: list[dict[str, Any]],
    not_before: datetime,
    state: str = OutboxState.PENDING,
) -> bool:
    """Add a message unless one with this idempotency key exists; True when added. One
    statement, so a job that fires twice, or two workers deciding at once, send once."""
    return enqueue_many(db, [Queued(key, person_id, kind, payload, not_before, state)]) == 1


def enqueue_many(db: Session, messages: Sequence[Queued]) -> int:
    """``enqueue`` for many messages in one round trip; returns how many were new."""
    rows = [message.row() for message in messages]
    return insert_many_if_new(db, Outbound, unique="idempotency_key", rows=rows)


def claim_due(db: Session, *, now: datetime, limit: int = 50) -> list[Outbound]:
    """Due rows, marked ``sending`` in one ``UPDATE … RETURNING`` (commit right after, then
    deliver). One statement is atomic on SQLite too; on PostgreSQL the rows are picked with
    ``FOR UPDATE SKIP LOCKED``, so concurrent workers never take the same message."""
    due = (
        select(Outbound.id)
        .where(col(Outbound.state).in_([OutboxState.PENDING, OutboxState.FAILED]))
        .where(Outbound.not_before <= now)
        .order_by(col(Outbound.not_before), col(Outbound.id))
        .limit(limit)
    )
    if db.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claim = (
        update(Outbound)
        .where(col(Outbound.id).in_(due.scalar_subquery()))
        .values(
            state=OutboxState.SENDING,
            attempts=col(Outbound.attempts) + 1,
            not_before=now,  # while sending: when it was claimed (see recover_stuck)
        )
        .returning(Outbound)
        .execution_options(synchronize_session=False)
    )
    rows = list(db.exec(claim).scalars())
    return sorted(rows, key=lambda row: row.id or 0)


def mark_sent(row: Outbound, *, channel: str, now: datetime) -> None:
    row.state, row.channel, row.sent_at, row.last_error = OutboxState.SENT, channel, now, None


def mark_skipped(row: Outbound, *, reason: str) -> None:
    row.state, row.last_error = OutboxState.SKIPPED, reason


def mark_failed(
    row: Outbound, *, error: str, now: datetime, retry_after: float | None = None
) -> None:
    """A transient error: back off exponentially with jitter (or as the platform asked), and
    give up as dead after ``MAX_ATTEMPTS``."""
    if row.attempts >= MAX_ATTEMPTS:
        mark_dead(row, reason=f"gave up after {row.attempts} attempts: {error}")
        return
    delay = min(BACKOFF_BASE * 2 ** (row.attempts - 1), BACKOFF_CAP)
    delay = delay * random.uniform(0.5, 1.0)  # jitter: retries of a burst spread out
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    row.state, row.last_error, row.not_before = OutboxState.FAILED, error, now + delay


def mark_dead(row: Outbound, *, reason: str) -> None:
    row.state, row.last_error = OutboxState.DEAD, reason


INTERRUPTED = "interrupted while sending"
"""Marks a row a dead process left in ``sending``: it may or may not have reached the platform,
so the sender checks (Slack: the DM's history) before sending it again."""


def recover_stuck(db: Session, *, older_than: datetime) -> int:
    """Rows left in ``sending`` by a process that died: back to pending, marked interrupted;
    ``not_before`` keeps the moment they were claimed."""
    rows = list(
        db.exec(
            select(Outbound)
            .where(Outbound.state == OutboxState.SENDING)
            .where(Outbound.not_before <= older_than)
        )
    )
    for row in rows:
        row.state = OutboxState.PENDING
        row.last_error = INTERRUPTED
        db.add(row)
    return len(rows)


@dataclass(frozen=True)
class OutboxStatus:
    counts: dict[str, int]
    oldest_pending: datetime | None
    dead_reasons: dict[str, int]


def status(db: Session) -> OutboxStatus:
    counts = {
        str(state): int(n)
        for state, n in db.exec(select(Outbound.state, func.count()).group_by(col(Outbound.state)))
    }
    oldest = db.exec(
        select(func.min(Outbound.not_before)).where(
            or_(
                col(Outbound.state) == OutboxState.PENDING,
                col(Outbound.state) == OutboxState.FAILED,
            )
        )
    ).one()
    reasons = {
        str(reason): int(n)
        for reason, n in db.exec(
            select(Outbound.last_error, func.count())
            .where(Outbound.state == OutboxState.DEAD)
            .group_by(col(Outbound.last_error))
        )
    }
    return OutboxStatus(counts, oldest, reasons)


def retry_dead(db: Session, *, now: datetime) -> int:
    rows = list(db.exec(select(Outbound).where(Outbound.state == OutboxState.DEAD)))
    for row in rows:
        row.state, row.attempts, row.not_before = OutboxState.PENDING, 0, now
        db.add(row)
    return len(rows)


def pending_for(db: Session, person_id: int, *, now: datetime) -> list[Outbound]:
    """A person's due messages, for a channel that shows them when the person comes by
    (the console)."""
    return list(
        db.exec(
            select(Outbound)
            .where(Outbound.person_id == person_id)
            .where(col(Outbound.state).in_([OutboxState.PENDING, OutboxState.FAILED]))
            .where(or_(col(Outbound.channel) == "console", col(Outbound.not_before) <= now))
            .order_by(col(Outbound.created_at), col(Outbound.id))
        )
    )
