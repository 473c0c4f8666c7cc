"""Two delivery workers (two replicas) on one outbox and one shared send budget: together they
never send faster than the budget, each message goes once, and a worker that dies mid-pass
loses nothing."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from bot.channels.registry import SLACK
from bot.claims import SharedBudgets
from bot.delivery import DeliveryWorker
from bot.ratelimit import AdaptiveRate
from bot.senders import NOT_SENT, SENT, Lookup, SendResult
from dialogs.engine.replies import Offer, Reply, reply_to_dict
from storage.models import Outbound, Person
from storage.outbox import OutboxMessage, enqueue_many

NOW = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
NUDGE = [reply_to_dict(Offer("Time for a check-in?", (("checkin", "Check in now"),)))]
RATE = 10.0


class VirtualTime:
    """One clock for both workers' budgets and the shared one: a wait moves it on."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def now(self) -> float:
        return self.t

    async def sleep(self, delay: float) -> None:
        until = self.t + max(0.0, delay)
        await asyncio.sleep(0)
        self.t = max(self.t, until)


class Granted(AdaptiveRate):
    """A budget that remembers when each slot it gave out starts."""

    def __init__(self, time: VirtualTime, granted: list[float]) -> None:
        super().__init__(RATE, per_conversation=1.0, clock=time.now, sleep=time.sleep)
        self.granted = granted

    def reserve(self, conversation: str = "", *, within: float | None = None) -> float | None:
        at = super().reserve(conversation, within=within)
        if at is not None:
            self.granted.append(at)
        return at


class Slack:
    """One replica's Slack sender; ``arrived`` is the platform, shared by the replicas: a
    look-up after a crash answers from it, as Slack's history does."""

    channel = SLACK.name
    lookups: AdaptiveRate | None = None

    def __init__(self, time: VirtualTime, granted: list[float], arrived: Counter[str]) -> None:
        self.limiter = Granted(time, granted)
        self.arrived = arrived
        self.sent = 0

    def can_reach(self, person: Person) -> bool:
        return SLACK.can_reach(person)

    async def already_sent(
        self, person: Person, keys: Sequence[str], *, since: datetime
    ) -> dict[str, Lookup]:
        return {key: SENT if self.arrived[key] else NOT_SENT for key in keys}

    async def send(self, person: Person, replies: Sequence[Reply], *, key: str) -> SendResult:
        await asyncio.sleep(0)  # on the wire
        self.arrived[key] += 1
        self.sent += 1
        return SendResult(True)


def _people_due(engine, count: int) -> list[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as db:
        people = [
            Person(email=f"p{n}@example.com", name=f"P{n}", slack_user_id=f"U{n}")
            for n in range(count)
        ]
        db.add_all(people)
        db.flush()
        keys = [f"c:{p.id}" for p in people]
        enqueue_many(
            db,
            [
                OutboxMessage(k, int(p.id or 0), "checkin", NOW, NUDGE)
                for k, p in zip(keys, people, strict=True)
            ],
        )
        db.commit()
    return keys


def most_in_a_second(moments: list[float]) -> int:
    moments, most, first = sorted(moments), 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= 1.0 - 1e-3:  # float error at 1.8e9 s is ~1e-6
            first += 1
        most = max(most, last - first + 1)
    return most


def test_two_workers_together_keep_to_the_shared_budget(engine) -> None:  # type: ignore[no-untyped-def]
    keys = _people_due(engine, 240)
    time, granted, arrived = VirtualTime(), [], Counter[str]()
    shared = SharedBudgets(clock=time.now, sleep=time.sleep)
    replicas = [Slack(time, granted, arrived) for _ in range(2)]
    workers = [DeliveryWorker(engine, [s], clock=lambda: NOW, shared=shared) for s in replicas]

    async def both() -> None:
        await asyncio.gather(*(w.run_until_idle() for w in workers))

    asyncio.run(both())
    assert arrived == Counter(dict.fromkeys(keys, 1))  # each once
    assert sum(r.sent for r in replicas) == len(keys)
    assert most_in_a_second(granted) <= RATE  # together, never above the budget
    span = max(granted) - min(granted)
    assert span < 1.5 * len(keys) / RATE  # the budget was used (half of it idling: 2x)
    with Session(engine) as db:
        assert {row.state for row in db.exec(select(Outbound))} == {"sent"}


def test_a_worker_that_dies_mid_pass_loses_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    keys = _people_due(engine, 120)
    time, granted, arrived = VirtualTime(), [], Counter[str]()
    shared = SharedBudgets(clock=time.now, sleep=time.sleep)
    dying, survivor = Slack(time, granted, arrived), Slack(time, granted, arrived)

    async def crash() -> None:
        worker = DeliveryWorker(engine, [dying], clock=lambda: NOW, shared=shared)
        running = asyncio.ensure_future(worker.run_until_idle())
        while dying.sent < 20:
            await asyncio.sleep(0)
        running.cancel()  # the process dies: its claimed rows stay "sending"
        await asyncio.gather(running, return_exceptions=True)

    asyncio.run(crash())
    with Session(engine) as db:
        left_sending = len(db.exec(select(Outbound).where(Outbound.state == "sending")).all())
    assert left_sending > 0
    later = NOW + timedelta(minutes=3)  # past STUCK_AFTER: the rows are recovered
    worker = DeliveryWorker(engine, [survivor], clock=lambda: later, shared=shared)
    report = asyncio.run(worker.run_until_idle())
    assert arrived == Counter(dict.fromkeys(keys, 1))  # nothing lost, nothing twice
    assert report.found == dying.sent  # what it had sent was found, not sent again
    assert dying.sent + survivor.sent == len(keys)
    assert most_in_a_second(granted) <= RATE
    with Session(engine) as db:
        assert {row.state for row in db.exec(select(Outbound))} == {"sent"}
