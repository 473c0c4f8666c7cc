"""The outbox: every message the bot starts on its own, from decision to delivery.

One type carries a message all the way: :class:`OutboxMessage`, built by whoever decides to
send (nudge rules, digests, campaigns), written by :func:`enqueue_many` and handed back to the
delivery worker by :func:`claim_due`. The row (``storage.models.Outbound``) keeps its state.

States (``OutboxState``, checked by the database): pending -> sending -> sent | failed (tried
again after ``not_before``) | dead (a permanent error, with its reason) | skipped (no longer
relevant); held while its campaign is paused. Workers claim due rows; on PostgreSQL with
``FOR UPDATE SKIP LOCKED`` so several processes never take the same row.

A row a dead process left in ``sending`` is *interrupted* (``last_error`` starts with
``INTERRUPTED``): it may or may not have reached the platform, so it is looked up before it is
sent again, and it keeps that marker until a look-up tells (``mark_unknown``).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, and_, cast, func, not_, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from storage.db import insert_many_if_new
from storage.id_sets import among
from storage.models import Outbound, OutboxState, Person

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=2)


@dataclass(frozen=True)
class OutboxMessage:
    """A message the bot starts on its own (a nudge, a digest, a campaign step, a "remind me
    tomorrow" copy), from the moment it is decided to its delivery. Its producer builds it;
    :func:`enqueue_many` writes it (the idempotency ``key`` makes a repeat a no-op);
    :func:`claim_due` gives it back to the delivery worker, then with the row's ``id``,
    ``attempts`` and ``created_at`` filled in."""

    key: str
    """The idempotency key, naming the slot or thing (``checkin:<person>:<date>``)."""
    person_id: int
    kind: str
    """What it is (``checkin``, ``digest``, ``campaign``…): the pause and the rhythms go by it."""
    due: datetime
    """Not sent before then (``not_before``); on a claimed message, when it was claimed."""
    payload: list[dict[str, Any]]
    """The replies, as channel-neutral dicts (rendered per channel when sent)."""
    skipped: bool = False
    """Nothing to send this time: recorded as ``skipped`` (so the slot counts as done)."""
    note: str | None = None
    """The row's ``last_error``: why it is skipped (paused, opted out); on a claimed message,
    what went wrong last time, or the ``INTERRUPTED`` marker."""
    campaign_id: int | None = None
    campaign_step: str | None = None
    """For a campaign's message: the campaign and the step it carries."""
    not_after: datetime | None = None
    """When it stops being of use (an invitation, a reminder: its workshop's start): the
    worker skips it from then on (:func:`past_deadline`) rather than delivering it late."""
    id: int | None = None
    """The row's id: set on a claimed message (outcomes are recorded against it)."""
    attempts: int = 0
    created_at: datetime | None = None
    """When it was first due (set on a claimed message)."""

    def row(self) -> dict[str, Any]:
        """The ``outbound`` row it is enqueued as."""
        return {
            "idempotency_key": self.key,
            "person_id": self.person_id,
            "kind": self.kind,
            "payload": self.payload,
            "state": OutboxState.SKIPPED if self.skipped else OutboxState.PENDING,
            "attempts": 0,
            "not_before": self.due,
            "not_after": self.not_after,
            "created_at": self.due,
            "campaign_id": self.campaign_id,
            "campaign_step": self.campaign_step,
            "last_error": self.note,
        }

    @classmethod
    def claimed(cls, row: Outbound) -> OutboxMessage:
        """A row just claimed (``sending``), as the worker delivers it."""
        assert row.id is not None
        return cls(
            key=row.idempotency_key,
            person_id=row.person_id,
            kind=row.kind,
            due=row.not_before,
            payload=list(row.payload),
            note=row.last_error,
            campaign_id=row.campaign_id,
            campaign_step=row.campaign_step,
            not_after=row.not_after,
            id=row.id,
            attempts=row.attempts,
            created_at=row.created_at,
        )


def enqueue(db: Session, message: OutboxMessage) -> bool:
    """Add a message unless one with its idempotency key exists; True when added. One
    statement, in the caller's transaction, so a job that fires twice, or two workers deciding
    at once, send once."""
    return enqueue_many(db, [message]) == 1


def enqueue_many(db: Session, messages: Iterable[OutboxMessage]) -> int:
    """``enqueue`` for many messages in one round trip; returns how many were new."""
    rows = [message.row() for message in messages]
    return insert_many_if_new(db, Outbound, unique="idempotency_key", rows=rows)


def claim_due(
    db: Session,
    *,
    now: datetime,
    limit: int = 50,
    reconcile_people: int | None = None,
    who: ColumnElement[bool] | None = None,
) -> list[OutboxMessage]:
    """Due rows, marked ``sending`` in one ``UPDATE … RETURNING`` (commit right after, then
    deliver). One statement is atomic on SQLite too; on PostgreSQL the rows are picked with
    ``FOR UPDATE SKIP LOCKED``, so concurrent workers never take the same message.

    ``reconcile_people``: how many people's interrupted rows this claim may take (each person
    costs the sender one history look-up, and look-ups have a budget of their own); their
    interrupted rows come first, then ordinary ones up to ``limit`` in all. ``None``: no such
    cap, interrupted rows are claimed like any other.

    ``who``: only the rows of the people this condition on ``Person`` selects (the delivery
    worker claims per platform, each what its send budget can serve, so one platform's backlog
    never holds back another's); ``None``: everyone's."""
    if limit <= 0:
        return []
    if reconcile_people is None:
        due = _due(now, who)
        return [OutboxMessage.claimed(row) for row in _claim(db, due, now=now, limit=limit)]
    interrupted = col(Outbound.last_error).startswith(INTERRUPTED)
    claimed: list[Outbound] = []
    if reconcile_people > 0:
        people = list(
            db.exec(
                select(Outbound.person_id)
                .where(*_due_conditions(now, who), interrupted)
                .group_by(col(Outbound.person_id))
                .order_by(func.min(Outbound.not_before), col(Outbound.person_id))
                .limit(reconcile_people)
            )
        )
        if people:
            theirs = _due(now, who).where(interrupted, col(Outbound.person_id).in_(people))
            claimed = _claim(db, theirs, now=now, limit=limit)
    if len(claimed) < limit:
        ordinary = _due(now, who).where(or_(col(Outbound.last_error).is_(None), not_(interrupted)))
        claimed += _claim(db, ordinary, now=now, limit=limit - len(claimed))
    return [OutboxMessage.claimed(row) for row in sorted(claimed, key=lambda row: row.id or 0)]


def _due_conditions(
    now: datetime, who: ColumnElement[bool] | None = None
) -> tuple[ColumnElement[bool], ...]:
    due = (
        col(Outbound.state).in_([OutboxState.PENDING, OutboxState.FAILED]),
        col(Outbound.not_before) <= now,
    )
    if who is None:
        return due
    return (*due, col(Outbound.person_id).in_(select(col(Person.id)).where(who)))


def _due(now: datetime, who: ColumnElement[bool] | None = None) -> SelectOfScalar[int | None]:
    return select(col(Outbound.id)).where(*_due_conditions(now, who))


def _claim(
    db: Session, due: SelectOfScalar[int | None], *, now: datetime, limit: int
) -> list[Outbound]:
    due = due.order_by(col(Outbound.not_before), col(Outbound.id)).limit(limit)
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


def past_deadline(not_after: datetime | None, *, now: datetime) -> bool:
    """Whether a message with this deadline must no longer go at ``now`` (a worker that was
    down, a backoff, a rate limit or a console wait can hold it past its workshop's start)."""
    return not_after is not None and now >= not_after


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
    row.state, row.last_error = OutboxState.FAILED, error
    row.not_before = now + backoff(row.attempts, retry_after)


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """How long to wait after the ``attempts``-th failed try (the outbox's, and a story's post)."""
    delay = min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_CAP)
    delay = delay * random.uniform(0.5, 1.0)  # jitter: retries of a burst spread out
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return delay


def release(row: Outbound, *, now: datetime, settled: bool = False) -> None:
    """A claimed row the pass did not get to (its budget ran out): back to pending, due at once,
    as if never claimed. ``settled``: it was interrupted and a look-up found it was not sent, so
    it no longer needs one."""
    row.state, row.not_before = OutboxState.PENDING, now
    row.attempts = max(row.attempts - 1, 0)
    if settled:
        row.last_error = None


def mark_dead(row: Outbound, *, reason: str) -> None:
    row.state, row.last_error = OutboxState.DEAD, reason


INTERRUPTED = "interrupted while sending"
"""Marks a row a dead process left in ``sending``: it may or may not have reached the platform,
so the sender checks (Slack: the DM's history) before sending it again. The full marker names
when the dead process claimed it (``interrupted while sending (claimed <ISO 8601>)``): the
earliest moment it can have arrived."""
_CLAIMED = re.compile(re.escape(INTERRUPTED) + r" \(claimed ([^)]+)\)")
_CLAIMED_AT = re.compile(r"(?<=" + re.escape(INTERRUPTED) + r") \(claimed [^)]+\)")


def is_interrupted(last_error: str | None) -> bool:
    return bool(last_error) and str(last_error).startswith(INTERRUPTED)


def interrupted_since(last_error: str | None) -> datetime | None:
    """When the interrupted attempt was claimed (None: not interrupted, or marked by an older
    version that did not say)."""
    found = _CLAIMED.match(last_error or "")
    if found is None:
        return None
    try:
        return datetime.fromisoformat(found.group(1))
    except ValueError:
        return None


def _marker(last_error: str | None, claimed: datetime | None) -> str:
    """The interrupted marker, naming the earliest claim of a row interrupted more than once
    (a process that died while looking it up had not learnt anything)."""
    earlier = interrupted_since(last_error)
    if earlier is None and is_interrupted(last_error):
        return INTERRUPTED  # marked by an older version: when is unknown (the row's age serves)
    if claimed is not None and earlier is not None:
        claimed = min(claimed, earlier)
    since = claimed or earlier
    return f"{INTERRUPTED} (claimed {since.isoformat()})" if since else INTERRUPTED


def recover_stuck(db: Session, *, older_than: datetime) -> int:
    """Rows left in ``sending`` by a process that died: back to pending, marked interrupted
    with the moment they were claimed (``not_before`` while sending)."""
    rows = list(
        db.exec(
            select(Outbound)
            .where(Outbound.state == OutboxState.SENDING)
            .where(Outbound.not_before <= older_than)
        )
    )
    for row in rows:
        row.state = OutboxState.PENDING
        row.last_error = _marker(row.last_error, row.not_before)
        db.add(row)
    return len(rows)


def mark_unknown(
    row: Outbound, *, error: str, now: datetime, retry_after: float | None = None
) -> None:
    """An interrupted row whose look-up could not tell whether it arrived (the platform
    throttled or failed the look-up): never sent on a guess. It keeps its marker and is asked
    about again after a backoff (at least ``retry_after``); after ``MAX_ATTEMPTS`` it is dead,
    the marker still first in its reason, so ``retry_dead`` looks it up again before sending."""
    note = f"{_marker(row.last_error, None)}; not known yet whether it arrived: {error}"
    if row.attempts >= MAX_ATTEMPTS:
        mark_dead(row, reason=f"{note} (asked {row.attempts} times)")
        return
    row.state, row.last_error = OutboxState.FAILED, note
    row.not_before = now + backoff(row.attempts, retry_after)


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
    reasons: dict[str, int] = {}
    for reason, n in db.exec(
        select(Outbound.last_error, func.count())
        .where(Outbound.state == OutboxState.DEAD)
        .group_by(col(Outbound.last_error))
    ):
        same = _CLAIMED_AT.sub("", str(reason))  # one line per reason, not per claim time
        reasons[same] = reasons.get(same, 0) + int(n)
    return OutboxStatus(counts, oldest, reasons)


def retry_dead(db: Session, *, now: datetime) -> int:
    """Dead messages back in the queue; one whose text was already removed (retention) is
    marked skipped instead. Returns how many go again."""
    rows = list(db.exec(select(Outbound).where(Outbound.state == OutboxState.DEAD)))
    revived = 0
    for row in rows:
        if not row.payload:
            mark_skipped(row, reason=EXPIRED)
        else:
            row.state, row.attempts, row.not_before = OutboxState.PENDING, 0, now
            revived += 1
        db.add(row)
    return revived


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


# -- retention and forgetting ------------------------------------------------------------

ABOUT = "about"
"""A payload part's list of the people whose data it shows, other than its recipient (a
digest's section of one report, its opening, a starter naming someone): what
:func:`redact_about` removes when one of them is forgotten."""
DONE = (OutboxState.SENT, OutboxState.SKIPPED, OutboxState.DEAD)
EXPIRED = "expired: its text was removed after the retention period"


def _non_empty(payload: Any) -> ColumnElement[bool]:
    return cast(payload, Text) != "[]"


def prune_payloads(db: Session, *, before: datetime) -> int:
    """Empty the payload (the text) of messages delivered before ``before`` — or skipped or
    dead since then — keeping the row: its idempotency key still keeps the slot from being
    sent twice, and its state and times still count. Returns how many were emptied."""
    done = or_(
        and_(col(Outbound.state) == OutboxState.SENT, col(Outbound.sent_at) < before),
        and_(
            col(Outbound.state).in_([OutboxState.SKIPPED, OutboxState.DEAD]),
            col(Outbound.not_before) < before,
        ),
    )
    statement = (
        update(Outbound)
        .where(done, _non_empty(Outbound.payload))
        .values(payload=[])
        .execution_options(synchronize_session=False)
    )
    return int(db.connection().execute(statement).rowcount)


def redact_about(db: Session, person_id: int, *, traces: Sequence[str] = ()) -> int:
    """Remove every part of other people's messages that shows this person's data (their
    ``about`` list names them), in any state: a digest their manager got or is still to get
    loses that person's section, the opening made from it and the starters naming them.
    ``traces`` (their name, e-mail and texts) find the same parts in digests queued before
    parts were labelled. Returns how many messages changed."""
    tagged = cast(Outbound.payload, Text).like(f'%"{ABOUT}"%')
    rows = db.exec(
        select(Outbound)
        .where(col(Outbound.person_id) != person_id)
        .where(or_(col(Outbound.kind) == "digest", tagged), _non_empty(Outbound.payload))
    )
    wanted = [t for t in {t.strip() for t in traces} if len(t) >= 3]
    changed = 0
    for row in rows:
        kept = [part for part in row.payload if not _shows(part, person_id, wanted)]
        if len(kept) != len(row.payload):
            row.payload = kept
            db.add(row)
            changed += 1
    return changed


def _shows(part: dict[str, Any], person_id: int, traces: Sequence[str]) -> bool:
    if ABOUT in part:
        return person_id in part[ABOUT]
    text = str(part.get("text", ""))
    return any(trace in text for trace in traces)


# -- reads for calm (dialogs/nudges/calm.py) and the console's buttons ------------------------

TAKING = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.SENT, OutboxState.FAILED)
"""The states of a message that has gone or will go: it takes its half-day (calm)."""


def taken_between(
    db: Session, person_ids: Iterable[int], *, start: datetime, end: datetime
) -> list[Outbound]:
    """The messages of these people that went, or will go, between ``start`` and ``end``:
    a sent row at ``sent_at``, any other at ``created_at`` (when it was due when written; a
    retry or a console wait moves ``not_before``, not that). Oldest first."""
    moment = func.coalesce(Outbound.sent_at, Outbound.created_at)
    theirs = among(db.get_bind().dialect.name, col(Outbound.person_id), person_ids)
    return list(
        db.exec(
            select(Outbound)
            .where(theirs, col(Outbound.state).in_(TAKING))
            .where(moment >= start, moment < end)
            .order_by(moment, col(Outbound.id))
        )
    )


def untouched(db: Session, row_id: int) -> Outbound | None:
    """The row if it is still pending and never tried or shown (no attempt, no channel):
    nobody is sending it. On PostgreSQL it stays locked until the transaction ends, so a
    worker's ``claim_due`` (``SKIP LOCKED``) passes it by meanwhile."""
    query = (
        select(Outbound)
        .where(Outbound.id == row_id)
        .where(Outbound.state == OutboxState.PENDING)
        .where(Outbound.attempts == 0)
        .where(col(Outbound.channel).is_(None))
    )
    if db.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return db.exec(query).first()


def by_key(db: Session, key: str) -> Outbound | None:
    """The message with this idempotency key, if any."""
    return db.exec(select(Outbound).where(Outbound.idempotency_key == key)).first()


def shown_in_console(db: Session, person_id: int, *, since: datetime) -> list[Outbound]:
    """The messages a person was shown in the console since ``since``, in the order they
    were shown."""
    return list(
        db.exec(
            select(Outbound)
            .where(Outbound.person_id == person_id)
            .where(Outbound.channel == "console")
            .where(Outbound.state == OutboxState.SENT)
            .where(col(Outbound.sent_at) >= since)
            .order_by(col(Outbound.sent_at), col(Outbound.id))
        )
    )


def seen_inbound(db: Session, inbound_ids: Iterable[str]) -> set[str]:
    """Which of these inbound ids were handled already (``storage.inbound.claim``)."""
    from storage.models import ProcessedInbound

    wanted = sorted(set(inbound_ids))
    if not wanted:
        return set()
    query = select(ProcessedInbound.inbound_id).where(col(ProcessedInbound.inbound_id).in_(wanted))
    return set(db.exec(query))
