"""The outbox delivery worker: claims due messages and sends each through the person's chat
channel, recording the outcome. Transient errors (HTTP 5xx, 429, timeouts) are retried with
backoff and jitter; permanent ones (user gone, bot uninstalled) go to ``dead`` with the reason.
People no chat channel can reach get their messages in the console the next time they chat."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from bot.ratelimit import AdaptiveRate
from dialogs.replies import Reply, reply_from_dict
from storage.db import session_scope
from storage.models import Outbound, OutboxState, Person, utcnow
from storage.outbox import (
    INTERRUPTED,
    claim_due,
    mark_dead,
    mark_failed,
    mark_sent,
    mark_skipped,
    recover_stuck,
)

log = logging.getLogger(__name__)
CONSOLE_RECHECK = timedelta(hours=6)
"""How often a console-only person is checked again (they may have joined Slack or Teams)."""
OUTCOME_BATCH = 50
NOT_PAUSED = frozenset({"system", "digest"})
"""Kinds a nudge pause does not hold back (a manager's digest is their information, not a nudge)."""
STUCK_AFTER = timedelta(minutes=2)
"""A row in ``sending`` longer than this was left by a process that died (sends take seconds)."""


@dataclass(frozen=True)
class SendResult:
    ok: bool
    permanent: bool = False
    error: str = ""
    retry_after: float | None = None


class Sender(Protocol):
    channel: str
    limiter: AdaptiveRate

    def can_reach(self, person: Person) -> bool: ...

    async def already_sent(self, person: Person, *, key: str, since: datetime) -> bool:
        """After a crash mid-send: did the message reach the platform? (False if unknowable.)"""
        ...

    async def send(self, person: Person, replies: Sequence[Reply], *, key: str) -> SendResult: ...


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    console: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        senders: Sequence[Sender],
        *,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 16,
        stuck_after: timedelta = STUCK_AFTER,
    ) -> None:
        self.engine = engine
        self.senders = list(senders)
        self.clock = clock
        self.concurrency = concurrency
        self.stuck_after = stuck_after

    async def run_once(self, *, limit: int = 100) -> DeliveryReport:
        """Claim what is due, send it concurrently, record the outcomes in batches (a crash
        before a batch is written leaves those rows ``sending``: recovered and reconciled)."""
        report = DeliveryReport()
        now = self.clock()
        loop = asyncio.get_running_loop()
        claimed = await loop.run_in_executor(None, self._claim, now, limit)
        outcomes: list[tuple[int, Callable[[Outbound], None]]] = []
        gate = asyncio.Semaphore(self.concurrency)
        writer = asyncio.Lock()  # one batch written at a time: SQLite has one writer

        async def record(batch: list[tuple[int, Callable[[Outbound], None]]]) -> None:
            async with writer:
                await loop.run_in_executor(None, self._record, batch)

        async def one(item: _Claimed) -> None:
            async with gate:
                outcome = await self._deliver(item, now, report)
            outcomes.append((item.row_id, outcome))
            if len(outcomes) >= OUTCOME_BATCH:
                batch = outcomes[:]
                outcomes.clear()
                await record(batch)

        await asyncio.gather(*(one(item) for item in claimed))
        if outcomes:
            await record(outcomes)
        return report

    async def run_forever(self, *, idle: float = 2.0) -> None:
        while True:
            try:
                report = await self.run_once()
                busy = report.sent + report.failed + report.dead + report.skipped
            except Exception:
                log.exception("outbox delivery pass failed")
                busy = 0
            if not busy:
                await asyncio.sleep(idle)

    def _claim(self, now: datetime, limit: int) -> list[_Claimed]:
        with session_scope(self.engine) as db:
            recover_stuck(db, older_than=now - self.stuck_after)
            rows = claim_due(db, now=now, limit=limit)
            ids = {row.person_id for row in rows}
            people = (
                {p.id: p for p in db.exec(select(Person).where(col(Person.id).in_(ids)))}
                if ids
                else {}
            )
            return [
                _Claimed(
                    row.id or 0,
                    row.idempotency_key,
                    row.kind,
                    list(row.payload),
                    row.last_error,
                    row.not_before,
                    people.get(row.person_id),
                )
                for row in rows
            ]

    def _record(self, outcomes: Sequence[tuple[int, Callable[[Outbound], None]]]) -> None:
        with session_scope(self.engine) as db:
            ids = [row_id for row_id, _ in outcomes]
            rows = {r.id: r for r in db.exec(select(Outbound).where(col(Outbound.id).in_(ids)))}
            for row_id, outcome in outcomes:
                row = rows.get(row_id)
                if row is not None:
                    outcome(row)
                    db.add(row)

    async def _deliver(
        self, item: _Claimed, now: datetime, report: DeliveryReport
    ) -> Callable[[Outbound], None]:
        person = item.person
        if person is None:  # deleted meanwhile (and the row with them)
            return lambda row: None
        today = now.astimezone(ZoneInfo(person.timezone)).date()
        if (
            item.kind != "system"
            and person.nudge_paused_until
            and person.nudge_paused_until >= today
        ):
            report.skipped += 1
            return lambda row: mark_skipped(row, reason="paused")
        sender = next((s for s in self.senders if s.can_reach(person)), None)
        if sender is None:
            report.console += 1
            return lambda row: _leave_for_console(row, now)
        replies = [reply_from_dict(data) for data in item.payload]
        await sender.limiter.acquire(str(person.id))
        try:
            if item.last_error == INTERRUPTED and await sender.already_sent(
                person, key=item.key, since=item.claimed_at
            ):
                result = SendResult(True)  # it did arrive before the crash: not again
            else:
                result = await sender.send(person, replies, key=item.key)
        except Exception as error:  # a bug or an unexpected client error: retry, visibly
            log.exception("sending outbox row %s failed", item.row_id)
            result = SendResult(False, error=f"{type(error).__name__}: {error}")
        if result.retry_after is not None:
            sender.limiter.slow_down()
        elif result.ok:
            sender.limiter.recovered()
        return _recorder(result, sender.channel, now, report)


@dataclass(frozen=True)
class _Claimed:
    row_id: int
    key: str
    kind: str
    payload: list[dict[str, Any]]
    last_error: str | None
    claimed_at: datetime
    person: Person | None


def _recorder(
    result: SendResult, channel: str, now: datetime, report: DeliveryReport
) -> Callable[[Outbound], None]:
    if result.ok:
        report.sent += 1
        report.by_channel[channel] = report.by_channel.get(channel, 0) + 1
        return lambda row: mark_sent(row, channel=channel, now=now)
    if result.permanent:
        report.dead += 1
        return lambda row: mark_dead(row, reason=f"{channel}: {result.error}")
    report.failed += 1
    return lambda row: mark_failed(
        row, error=f"{channel}: {result.error}", now=now, retry_after=result.retry_after
    )


def _leave_for_console(row: Outbound, now: datetime) -> None:
    """Kept pending for ``regie chat`` to show; looked at again later in case the person
    can be reached in Slack or Teams by then."""
    row.state = OutboxState.PENDING
    row.channel = "console"
    row.not_before = now + CONSOLE_RECHECK
    row.attempts = max(row.attempts - 1, 0)
