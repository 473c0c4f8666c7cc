"""The outbox delivery worker: claims due messages and sends each through the person's chat
channel, recording the outcome. Transient errors (HTTP 5xx, 429, timeouts) are retried with
backoff and jitter; permanent ones (user gone, bot uninstalled) go to ``dead`` with the reason.
People no chat channel can reach get their messages in the console the next time they chat.

Pacing: each pass claims only what the senders' budgets can send in about ``pass_seconds``, and
only as many people's interrupted rows (left ``sending`` by a process that died) as their
history look-ups' budget allows; the rest stays pending for the next pass. A look-up answers
sent, not sent or unknown; an unknown is asked again later, never taken as "not sent".

A manager's digest is composed again when it is sent (``dialogs.nudges.digest.at_delivery``),
from what is shared then, and its reads are audited only once it reached the manager; people
reachable only in the console get theirs the same way from :func:`console_inbox`. A nudge pause
holds back nudges, never a digest or a notice about the person's own data (``NOT_PAUSED``).

A message with a deadline (``not_after``: an invitation to a workshop, a reminder of it) that
a stopped worker, a backoff, a rate limit or a console wait kept until its workshop started is
never delivered: it is skipped, noted ``TOO_LATE`` (counted in the campaign's report)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.orm import object_session
from sqlmodel import Session, col, select

from bot.claims import NEEDS_CONVERSATION, Lane, SharedBudgets, lanes
from bot.senders import Lookup, Seen, Sender, SendResult
from dialogs.campaigns.timing import TOO_LATE
from dialogs.engine.content import Content, load_content
from dialogs.engine.replies import Reply, reply_from_dict
from dialogs.nudges import digest as digests
from dialogs.nudges.rules import welcome_delivered
from storage.addresses import people_with_address
from storage.db import session_scope
from storage.models import Outbound, OutboxState, Person, utcnow
from storage.outbox import (
    OutboxMessage,
    claim_due,
    interrupted_since,
    is_interrupted,
    mark_dead,
    mark_failed,
    mark_sent,
    mark_skipped,
    mark_unknown,
    past_deadline,
    pending_for,
    recover_stuck,
    release,
)
from storage.privacy import Reader
from storage.retention import NOTICE_KIND
from storage.send_budget import Taken, take

log = logging.getLogger(__name__)
CONSOLE_RECHECK = timedelta(hours=6)
"""How often a console-only person is checked again (they may have joined Slack or Teams)."""
OUTCOME_BATCH = 50
NOT_PAUSED = frozenset({"system", digests.DIGEST_KIND, NOTICE_KIND})
"""Kinds a nudge pause does not hold back: a manager's digest is their information about their
team, not a nudge (a manager who wants none chooses the ``off`` rhythm), and a retention notice
tells the person what is about to happen to their own data."""
STUCK_AFTER = timedelta(minutes=2)
"""A row in ``sending`` longer than this was left by a process that died (sends take seconds)."""
PASS_SECONDS = 5.0
"""A pass claims what the senders' budgets can serve in about this long (far below
``STUCK_AFTER``, so no claimed row looks abandoned while it waits for its turn). A row whose
send could not start within twice that (the budget shrank after a 429, one person's messages
wait for their conversation's spacing, or all of a pass went to the slowest platform) goes back
to pending untried."""
SHARE_AT_LEAST = 0.2
"""A pass takes no slots from a shared budget rather than fewer than this part of a pass's
worth (while another replica holds the rest): it waits for a run of them instead."""
SHARE_GAP = 2
"""Slots left free between one replica's run of slots and the next one's."""
SHARE_LEAD = 0.1
TAKE_AHEAD = 0.1
"""Seconds: slots taken from an idle shared budget start this far ahead, so that the pass's
own claim and composing come before its first slot (a pass of one row takes one slot of
1/rate seconds, which would otherwise be over before its send, and the row would go back to
wait again, pass after pass)."""
"""A replica waiting for the shared budget wakes this part of a pass before its slots free."""
UNPACED_BATCH = 500
"""A pass's size with no sender to pace it (console only: nothing goes over the network)."""


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    console: int = 0
    found: int = 0
    """Interrupted messages a look-up found delivered (counted in ``sent``, not sent again)."""
    unknown: int = 0
    """Interrupted messages nobody could tell about yet: asked again later."""
    deferred: int = 0
    """Claimed but not tried: the pass's budget ran out; pending again, due at once."""
    claimed: int = 0
    passes: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    waiting: float | None = None
    """Seconds until a shared send budget that other replicas had taken all of has a slot
    again (None: no sender went without); not added up."""

    def add(self, other: DeliveryReport) -> None:
        for name in (f.name for f in fields(self) if f.name not in ("by_channel", "waiting")):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for channel, n in other.by_channel.items():
            self.by_channel[channel] = self.by_channel.get(channel, 0) + n


class DeliveryWorker:
    def __init__(
        self,
        engine: Engine,
        senders: Sequence[Sender],
        *,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 16,
        stuck_after: timedelta = STUCK_AFTER,
        pass_seconds: float = PASS_SECONDS,
        shared: SharedBudgets | None = None,
    ) -> None:
        """``shared``: the send budgets are shared with other replicas through the database
        (``SharedBudgets.for_engine``); None: this process's budgets alone."""
        self.engine = engine
        self.shared = shared
        self.senders = list(senders)
        self.clock = clock
        self.concurrency = concurrency
        self.stuck_after = stuck_after
        self.pass_seconds = pass_seconds
        self._content: Content | None = None
        self._conversations: dict[str, set[int]] = {}
        """Per channel that needs one, who of this pass's people has a stored conversation."""

    @property
    def content(self) -> Content:
        """The texts, loaded when the first digest is composed."""
        if self._content is None:
            self._content = load_content()
        return self._content

    def batch(self, limit: int | None = None) -> tuple[int, int | None]:
        """What the next pass may claim for the senders' lanes together (``bot.claims.lanes``
        gives each its own): rows (what the senders' current budgets can send in about
        ``pass_seconds``, at least 1, at most ``limit``) and people with interrupted rows (what
        the look-up budgets allow; None when no sender looks anything up)."""
        if self.senders:
            rows = max(1, sum(s.limiter.budget(self.pass_seconds) for s in self.senders))
        else:
            rows = UNPACED_BATCH
        if limit is not None:
            rows = max(1, min(rows, limit))
        budgets = [s.lookups for s in self.senders if s.lookups is not None]
        people = sum(b.budget(self.pass_seconds) for b in budgets) if budgets else None
        return rows, people

    async def run_until_idle(self, *, max_passes: int | None = None) -> DeliveryReport:
        """Pass after pass until one finds nothing due (``regie run-due``: deliver everything
        due now, at the pace the platforms allow)."""
        total = DeliveryReport()
        while max_passes is None or total.passes < max_passes:
            report = await self.run_once()
            total.add(report)
            if report.claimed == report.deferred:  # nothing sent in this pass
                if self.shared is None or (report.claimed == 0 and report.waiting is None):
                    break  # nothing due (or, alone, no budget left to try it)
                # other replicas hold the shared budget's slots, or what we claimed missed our
                # window and went back: ours come when theirs are sent; back a little before,
                # so that the claim is done when they come
                lead = SHARE_LEAD * self.pass_seconds
                wait = self.pass_seconds if report.waiting is None else report.waiting
                await self.shared.sleep(min(max(0.0, wait - lead), self.pass_seconds))
        return total

    async def run_once(self, *, limit: int | None = None) -> DeliveryReport:
        """One pass: claim what the budgets can serve, look up interrupted rows (one look-up per
        person), send the rest concurrently, record the outcomes in batches (a crash before a
        batch is written leaves those rows ``sending``: recovered and reconciled)."""
        report = DeliveryReport(passes=1)
        now = self.clock()
        loop = asyncio.get_running_loop()
        plan = lanes(self.senders, self.pass_seconds, unpaced=UNPACED_BATCH, limit=limit)
        claimed, recipients, taken = await loop.run_in_executor(None, self._claim, now, plan)
        report.waiting = self._pace(taken)
        self._conversations = await loop.run_in_executor(None, self._conversations_of, recipients)
        composed = await loop.run_in_executor(None, self._compose, claimed, recipients, now)
        claimed = [
            replace(m, payload=composed[m.id].payload) if m.id in composed else m for m in claimed
        ]
        report.claimed = len(claimed)
        lookups = await self._reconcile(claimed, recipients, now)
        outcomes: list[tuple[int, Callable[[Outbound], None]]] = []
        gates: dict[str, asyncio.Semaphore] = {}  # per platform: one never waits behind another
        writer = asyncio.Lock()  # one batch written at a time: SQLite has one writer

        async def record(batch: list[tuple[int, Callable[[Outbound], None]]]) -> None:
            async with writer:
                await loop.run_in_executor(None, self._record, batch)

        async def one(message: OutboxMessage) -> None:
            assert message.id is not None
            person = recipients.get(message.person_id)
            fresh = composed.get(message.id)
            if fresh is not None and fresh.skip is not None and person is not None:
                report.skipped += 1
                reason = fresh.skip
                outcomes.append((message.id, lambda row: mark_skipped(row, reason=reason)))
                return
            sender = self._sender_for(message, person, now)
            gate = gates.setdefault(
                sender.channel if sender else "", asyncio.Semaphore(self.concurrency)
            )
            async with gate:
                outcome = await self._deliver(message, person, now, report, lookups.get(message.id))
            if fresh is not None:
                outcome = _with_reads(outcome, fresh, now)
            outcomes.append((message.id, outcome))
            if len(outcomes) >= OUTCOME_BATCH:
                batch = outcomes[:]
                outcomes.clear()
                await record(batch)

        await asyncio.gather(*(one(message) for message in claimed))
        if outcomes:
            await record(outcomes)
        return report

    async def run_forever(
        self,
        *,
        idle: float = 2.0,
        on_pass: Callable[[BaseException | None], None] | None = None,
    ) -> None:
        """``on_pass`` hears after every pass: ``None``, or the error the pass failed with
        (``/healthz`` uses it to tell a stuck worker)."""
        while True:
            error: BaseException | None = None
            try:
                report = await self.run_once()
                busy = report.sent + report.failed + report.dead + report.skipped
            except Exception as failed:
                log.exception("outbox delivery pass failed")
                busy, error = 0, failed
            if on_pass is not None:
                on_pass(error)
            if not busy:
                await asyncio.sleep(idle)

    def _claim(
        self, now: datetime, plan: Sequence[Lane]
    ) -> tuple[list[OutboxMessage], dict[int, Person], list[tuple[Sender, Taken]]]:
        """The claimed messages (each lane's, in one transaction), their people (by id; someone
        deleted meanwhile is missing), and the slots taken from the shared budgets."""
        with session_scope(self.engine) as db:
            recover_stuck(db, older_than=now - self.stuck_after)
            shares = self._take(db, plan)
            claimed: list[OutboxMessage] = []
            for n, lane in enumerate(plan):
                share = shares.get(n)
                limit = lane.rows if share is None else share.slots
                got = claim_due(
                    db, now=now, limit=limit, reconcile_people=lane.people, who=lane.who
                )
                if share is not None:
                    share.keep(db, len(got))
                claimed += got
            claimed.sort(key=lambda message: message.id or 0)
            ids = {message.person_id for message in claimed}
            people = list(db.exec(select(Person).where(col(Person.id).in_(ids)))) if ids else []
            senders = [lane.sender for lane in plan]
            taken = [(s, shares[n]) for n, s in enumerate(senders) if s and n in shares]
            return claimed, {p.id: p for p in people if p.id is not None}, taken

    def _take(self, db: Session, plan: Sequence[Lane]) -> dict[int, Taken]:
        """Each sender lane's slots from its shared budget (by lane), taken in the order of the
        budgets' names so that replicas never wait for each other's rows in a circle."""
        if self.shared is None:
            return {}
        at = self.shared.clock()
        paced = [(n, lane.sender) for n, lane in enumerate(plan) if lane.sender is not None]
        shares: dict[int, Taken] = {}
        for n, sender in sorted(paced, key=lambda item: item[1].channel):
            shares[n] = take(
                db,
                sender.channel,
                want=plan[n].rows,
                rate=sender.limiter.rate,
                now=at + TAKE_AHEAD,
                horizon=self.pass_seconds,
                at_least=math.ceil(sender.limiter.rate * self.pass_seconds * SHARE_AT_LEAST),
                gap=SHARE_GAP / sender.limiter.rate,
            )
        return shares

    def _pace(self, taken: Sequence[tuple[Sender, Taken]]) -> float | None:
        """Each sender's own budget starts at its first shared slot; returns how long until a
        sender that got no slot at all can have one (None: none went without)."""
        if self.shared is None or not taken:
            return None
        at = self.shared.clock()
        waiting: list[float] = []
        for sender, share in taken:
            if share.slots:
                sender.limiter.window(share.start - at, share.free_at - at)
            elif not share.offered:
                waiting.append(max(0.0, share.free_at - at))
        return min(waiting) if waiting else None

    def _conversations_of(self, people: dict[int, Person]) -> dict[str, set[int]]:
        wanted = {s.channel for s in self.senders} & NEEDS_CONVERSATION
        if not wanted or not people:
            return {}
        with session_scope(self.engine) as db:
            return {name: people_with_address(db, name) & people.keys() for name in wanted}

    def _compose(
        self, claimed: Sequence[OutboxMessage], people: dict[int, Person], now: datetime
    ) -> dict[int, digests.Delivery]:
        """The claimed digests composed again from what is shared now (by row id); nothing is
        audited until one is delivered. A digest for someone only the console reaches is left
        as it is: ``console_inbox`` composes it when they look."""
        wanted = [
            m
            for m in claimed
            if m.kind == digests.DIGEST_KIND and m.person_id in people and m.id is not None
        ]
        if not wanted:
            return {}
        found: dict[int, digests.Delivery] = {}
        with session_scope(self.engine) as db:
            for message in wanted:
                manager = db.get(Person, message.person_id)
                if manager is None or not any(s.can_reach(manager) for s in self.senders):
                    continue
                assert message.id is not None
                found[message.id] = digests.at_delivery(
                    db,
                    self.content,
                    manager,
                    message.payload,
                    now=now,
                    queued_at=message.created_at,
                )
        return found

    def _record(self, outcomes: Sequence[tuple[int, Callable[[Outbound], None]]]) -> None:
        with session_scope(self.engine) as db:
            ids = [row_id for row_id, _ in outcomes]
            rows = {r.id: r for r in db.exec(select(Outbound).where(col(Outbound.id).in_(ids)))}
            for row_id, outcome in outcomes:
                row = rows.get(row_id)
                if row is not None:
                    outcome(row)
                    db.add(row)
            # A new hire's first onboarding nudge carries the welcome: delivered, it counts.
            welcome_delivered(db, rows.values(), now=self.clock())

    def _sender_for(
        self, message: OutboxMessage, person: Person | None, now: datetime
    ) -> Sender | None:
        """The sender that will take this message (None: none does, or the person paused)."""
        if person is None or _paused(message, person, now):
            return None
        return next((s for s in self.senders if self._reaches(s, person)), None)

    def _reaches(self, sender: Sender, person: Person) -> bool:
        if not sender.can_reach(person):
            return False
        if sender.channel not in NEEDS_CONVERSATION:
            return True
        return person.id in self._conversations.get(sender.channel, set())

    async def _reconcile(
        self, claimed: Sequence[OutboxMessage], people: dict[int, Person], now: datetime
    ) -> dict[int, Lookup]:
        """Ask each sender about the interrupted messages it will take: one call per person
        for all of that person's messages in this pass, concurrently within the look-up
        budget. Returns the answers by row id."""
        groups: dict[tuple[int, int], tuple[Sender, Person, list[OutboxMessage]]] = {}
        for message in claimed:
            if not is_interrupted(message.note):
                continue
            person = people.get(message.person_id)
            sender = self._sender_for(message, person, now)
            if sender is None or person is None:
                continue
            group = groups.setdefault((id(sender), message.person_id), (sender, person, []))
            group[2].append(message)
        found: dict[int, Lookup] = {}
        gate = asyncio.Semaphore(self.concurrency)

        async def ask(sender: Sender, person: Person, messages: list[OutboxMessage]) -> None:
            try:
                async with gate:
                    answers = await sender.already_sent(
                        person, [m.key for m in messages], since=min(map(_since, messages))
                    )
                missing = Lookup.unknown("no answer")
            except Exception as error:  # a bug or an unexpected client error: ask again later
                log.exception("looking up interrupted outbox rows of person %s failed", person.id)
                answers, missing = {}, Lookup.unknown(f"{type(error).__name__}: {error}")
            for message in messages:
                assert message.id is not None
                found[message.id] = answers.get(message.key, missing)

        await asyncio.gather(*(ask(*group) for group in groups.values()))
        return found

    async def _deliver(
        self,
        message: OutboxMessage,
        person: Person | None,
        now: datetime,
        report: DeliveryReport,
        lookup: Lookup | None,
    ) -> Callable[[Outbound], None]:
        if person is None:  # deleted meanwhile (and the row with them)
            return lambda row: None
        if _paused(message, person, now):
            report.skipped += 1
            return lambda row: mark_skipped(row, reason="paused")
        sender = self._sender_for(message, person, now)
        if sender is None:
            report.console += 1
            return lambda row: _leave_for_console(row, now)
        if is_interrupted(message.note):
            if lookup is None:  # cannot happen: every interrupted row with a sender was asked
                lookup = Lookup.unknown("not looked up")
            if lookup.seen is Seen.SENT:  # it did arrive before the crash: not again
                report.found += 1
                return _recorder(SendResult(True), sender.channel, now, report)
            if lookup.seen is Seen.UNKNOWN:
                report.unknown += 1
                error, retry_after = f"{sender.channel}: {lookup.error}", lookup.retry_after
                return lambda row: mark_unknown(row, error=error, now=now, retry_after=retry_after)
        if past_deadline(message.not_after, now=now):  # after a look-up: it may have gone
            report.skipped += 1
            return lambda row: mark_skipped(row, reason=TOO_LATE)
        replies = [reply_from_dict(data) for data in message.payload]
        if not await sender.limiter.acquire(str(person.id), within=2 * self.pass_seconds):
            report.deferred += 1
            settled = lookup is not None and lookup.seen is Seen.NOT_SENT
            return lambda row: release(row, now=now, settled=settled)
        try:
            result = await sender.send(person, replies, key=message.key)
        except Exception as error:  # a bug or an unexpected client error: retry, visibly
            log.exception("sending outbox row %s failed", message.id)
            result = SendResult(False, error=f"{type(error).__name__}: {error}")
        if result.retry_after is not None:
            sender.limiter.slow_down()
        elif result.ok:
            sender.limiter.recovered()
        return _recorder(result, sender.channel, now, report)


def _paused(message: OutboxMessage, person: Person, now: datetime) -> bool:
    today = now.astimezone(ZoneInfo(person.timezone)).date()
    return bool(
        message.kind not in NOT_PAUSED
        and person.nudge_paused_until
        and person.nudge_paused_until >= today
    )


def _with_reads(
    outcome: Callable[[Outbound], None], fresh: digests.Delivery, now: datetime
) -> Callable[[Outbound], None]:
    """A digest's outcome: once it is sent, the row keeps what was sent and the manager's
    reads are audited, in the same transaction as the row's new state."""

    def record(row: Outbound) -> None:
        outcome(row)
        if row.state != OutboxState.SENT:
            return  # not delivered (yet): not read
        row.payload = fresh.payload
        db = object_session(row)
        assert isinstance(db, Session)
        digests.record_delivered(db, fresh.digest, reader=Reader(person_id=row.person_id), at=now)

    return record


def ready_for_console(
    db: Session, row: Outbound, *, now: datetime, content: Content | None = None
) -> bool:
    """A message about to be shown in the console (and marked sent by the caller): a digest
    is composed from what is shared now (``row.payload`` replaced) and its reads audited as
    the manager's; False when it has nothing left to show (then it is marked skipped and must
    not be shown), or when its deadline passed while it waited. Any other message is shown as
    it is."""
    if past_deadline(row.not_after, now=now):
        mark_skipped(row, reason=TOO_LATE)
        db.add(row)
        return False
    if row.kind != digests.DIGEST_KIND:
        return True
    manager = db.get(Person, row.person_id)
    if manager is None:
        return False
    fresh = digests.at_delivery(
        db, content or load_content(), manager, list(row.payload), now=now, queued_at=row.created_at
    )
    if fresh.skip is not None:
        mark_skipped(row, reason=fresh.skip)
        db.add(row)
        return False
    row.payload = fresh.payload
    db.add(row)
    digests.record_delivered(db, fresh.digest, reader=Reader(person_id=row.person_id), at=now)
    return True


def console_inbox(
    db: Session, person_id: int, *, now: datetime, content: Content | None = None
) -> list[Reply]:
    """The messages waiting for someone only the console reaches, shown now (``regie chat``)
    and marked sent, each through :func:`ready_for_console`."""
    texts = content or load_content()
    replies: list[Reply] = []
    for row in pending_for(db, person_id, now=now):
        if not ready_for_console(db, row, now=now, content=texts):
            continue
        replies += [reply_from_dict(data) for data in row.payload]
        mark_sent(row, channel="console", now=now)
        db.add(row)
    return replies


def _since(message: OutboxMessage) -> datetime:
    """The earliest moment an interrupted message can have reached the platform: when the
    interrupted attempt was claimed, else (marked by an older version) when it was first due."""
    return interrupted_since(message.note) or message.created_at or message.due


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
