"""Health (administrators): the outbox by state, the oldest waiting message, dead letters with
their reasons and "send again" (``storage.outbox.retry_dead``, as ``regie outbox retry-dead``),
the scheduler's last and next run, how many people each channel reaches, and the audit log
(who read or changed whose data), with filters.

The scheduler's last run is read from the database (``storage.scheduler_runs``, written by
whichever ``regie serve`` schedules), so every replica shows the same."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.channels.registry import Reachability
from bot.scheduler import RUN_EVERY
from bot.web import context
from bot.web.hr.access import admin_page, audited, me, render, session
from bot.web.sessions import redirect
from storage.models import AuditEntry, Outbound, OutboxState, Person, SchedulerRun
from storage.outbox import retry_dead, status
from storage.scheduler_runs import last_run

DEAD_SHOWN = 50
AUDIT_SHOWN = 200


@dataclass(frozen=True)
class DeadLetter:
    id: int
    kind: str
    channel: str
    attempts: int
    reason: str
    since: datetime


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    action: str
    actor: str
    subject: str
    detail: str


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""
    subject: str = ""
    start: date | None = None
    end: date | None = None
    problems: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, query: Any) -> AuditFilter:
        problems: list[str] = []

        def day(name: str) -> date | None:
            raw = str(query.get(name, "")).strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                problems.append(name)
                return None

        return cls(
            action=str(query.get("action", "")).strip()[:64],
            actor=str(query.get("actor", "")).strip().lower()[:320],
            subject=str(query.get("subject", "")).strip().lower()[:320],
            start=day("from"),
            end=day("to"),
            problems=problems,
        )


@dataclass(frozen=True)
class HealthPage:
    counts: list[tuple[str, int]]
    oldest_waiting: datetime | None
    dead_reasons: list[tuple[str, int]]
    dead: list[DeadLetter]
    reach: list[tuple[str, int]]
    unreachable: list[tuple[str, int]]
    actions: list[str]
    audit: list[AuditRow]
    last_run: SchedulerRun | None


def _dead(db: Session) -> list[DeadLetter]:
    rows = db.exec(
        select(Outbound)
        .where(Outbound.state == OutboxState.DEAD)
        .order_by(col(Outbound.not_before).desc())
        .limit(DEAD_SHOWN)
    )
    return [
        DeadLetter(
            r.id or 0, r.kind, r.channel or "-", r.attempts, r.last_error or "-", r.not_before
        )
        for r in rows
    ]


def _reach(
    db: Session, request: web.Request
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    reach = Reachability.load(db, context.settings(request))
    channels: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for person in db.exec(select(Person)):
        channel, reason = reach.of(person)
        channels[channel] += 1
        if reason:
            reasons[reason] += 1
    return sorted(channels.items()), reasons.most_common()


def _audit(db: Session, wanted: AuditFilter) -> list[AuditRow]:
    query = select(AuditEntry)
    for email, column in (
        (wanted.actor, AuditEntry.actor_id),
        (wanted.subject, AuditEntry.subject_id),
    ):
        if email:
            ids = select(Person.id).where(func.lower(Person.email).contains(email))
            query = query.where(col(column).in_(ids.scalar_subquery()))
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.start is not None:
        query = query.where(col(AuditEntry.at) >= datetime.combine(wanted.start, time.min, UTC))
    if wanted.end is not None:
        query = query.where(col(AuditEntry.at) <= datetime.combine(wanted.end, time.max, UTC))
    entries = list(db.exec(query.order_by(col(AuditEntry.at).desc()).limit(AUDIT_SHOWN)))
    known = {e.actor_id for e in entries} | {e.subject_id for e in entries}
    people = {p.id: p for p in db.exec(select(Person).where(col(Person.id).in_(known - {None})))}

    def who(person_id: int | None, operator: object = None) -> str:
        if person_id is not None and person_id in people:
            return people[person_id].email
        if operator:
            return f"administrator ({operator})"
        return "-" if person_id is None else f"#{person_id}"

    return [
        AuditRow(
            e.at,
            e.action,
            who(e.actor_id, e.detail.get("operator")),
            who(e.subject_id),
            ", ".join(f"{k}={v}" for k, v in sorted(e.detail.items()) if k != "operator"),
        )
        for e in entries
    ]


def build(db: Session, request: web.Request, wanted: AuditFilter) -> HealthPage:
    current = status(db)
    counts = [(str(state), current.counts.get(str(state), 0)) for state in OutboxState]
    reach, unreachable = _reach(db, request)
    actions = sorted(db.exec(select(AuditEntry.action).distinct()))
    return HealthPage(
        counts=counts,
        oldest_waiting=current.oldest_pending,
        dead_reasons=sorted(current.dead_reasons.items(), key=lambda item: -item[1]),
        dead=_dead(db),
        reach=reach,
        unreachable=unreachable,
        actions=actions,
        audit=_audit(db, wanted),
        last_run=last_run(db),
    )


@admin_page
async def page(request: web.Request) -> web.StreamResponse:
    wanted = AuditFilter.of(request.query)

    def work() -> HealthPage:
        with session(request) as db:
            return build(db, request, wanted)

    found = await context.in_thread(work)
    last = found.last_run
    now = context.now(request)
    oldest = found.oldest_waiting
    waited = None
    if oldest is not None:
        waited = max(
            int((now - oldest.replace(tzinfo=oldest.tzinfo or UTC)) / timedelta(minutes=1)), 0
        )
    return render(
        request,
        "hr/health.html",
        {
            "page": found,
            "wanted": wanted,
            "last_run": last,
            "next_run": last.at + RUN_EVERY if last is not None else None,
            "waited_minutes": waited,
            "retried": request.query.get("retried"),
        },
    )


@admin_page
async def retry(request: web.Request) -> web.StreamResponse:
    actor = me(request)
    now = context.now(request)

    def work() -> int:
        with session(request) as db:
            revived = retry_dead(db, now=now)
            audited(db, actor, "outbox_retry_dead", at=now, messages=revived)
            db.commit()
            return revived

    revived = await context.in_thread(work)
    return redirect(f"/app/admin/health?retried={revived}")
