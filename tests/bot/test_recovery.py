"""Crash recovery is paced: a pass claims what the send budget can serve, interrupted messages
are looked up once per person within Slack's Tier 3 budget, and a look-up that fails or is
throttled means "unknown, ask again later" — never "not sent", so nothing goes out twice.

A crash is simulated the way a dead process leaves things: rows claimed (``sending``) and some
of them posted to Slack, nothing recorded. The restarted worker runs with an injected clock
(the outbox's instant) and its look-up budgets on a virtual clock (no real waiting)."""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_sdk import WebClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.slack.client import web_client
from bot.channels.slack.outbound import SlackSender
from bot.channels.teams.outbound import TeamsSender
from bot.delivery import DeliveryReport, DeliveryWorker
from bot.ratelimit import TIER_3_BURST, TIER_3_PER_MINUTE, TIER_3_RATE, AdaptiveRate
from bot.senders import NOT_SENT, Sender
from dialogs.engine.content import load_content
from dialogs.engine.replies import Offer, reply_from_dict, reply_to_dict
from storage.db import session_scope
from storage.models import Outbound, Person
from storage.outbox import (
    INTERRUPTED,
    MAX_ATTEMPTS,
    OutboxMessage,
    claim_due,
    enqueue,
    mark_unknown,
    recover_stuck,
    retry_dead,
    status,
)
from tests.bot.conftest import slack_settings
from tests.bot.slack_fake import FakeSlack
from tests.bot.teams_harness import card_of, card_text, run

CRASH = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
"""When the dead process claimed the rows (and died sending them)."""
RESTART = CRASH + timedelta(minutes=3)
"""The restarted worker's instant: past ``STUCK_AFTER``, so the rows count as interrupted."""
NUDGE = [reply_to_dict(Offer("Time for a check-in?", (("checkin", "Check in now"),)))]
CONTENT = load_content()


class VirtualTime:
    """A monotonic clock for the rate budgets: a wait moves it on once the tasks ready at
    that instant have taken their slots (no real waiting)."""

    def __init__(self) -> None:
        self.t = 1_000.0

    def now(self) -> float:
        return self.t

    async def sleep(self, delay: float) -> None:
        until = self.t + max(0.0, delay)
        await asyncio.sleep(0)  # the tasks ready now take their slots at this same instant
        self.t = max(self.t, until)


class RecordedBudget(AdaptiveRate):
    """A budget on virtual time that remembers when each slot it gave out starts."""

    def __init__(self, time: VirtualTime, rate: float, *, burst: int = 1, **kw: Any) -> None:
        super().__init__(rate, burst=burst, clock=time.now, sleep=time.sleep, **kw)
        self.granted: list[float] = []

    def reserve(self, conversation: str = "", *, within: float | None = None) -> float | None:
        at = super().reserve(conversation, within=within)
        if at is not None:
            self.granted.append(at)
        return at


def tier_3(time: VirtualTime) -> RecordedBudget:
    return RecordedBudget(time, TIER_3_RATE, burst=TIER_3_BURST)


def most_in_a_minute(times: Iterable[float]) -> int:
    moments = sorted(times)
    return max((sum(1 for u in moments if t <= u < t + 60) for t in moments), default=0)


class SlackWithOutages(FakeSlack):
    """The fake Slack, able to answer a method's next call with an HTTP error as Slack's edge
    does (429 with ``Retry-After``, 500), besides ``fail_next``'s ``{"ok": false}``."""

    def __init__(self) -> None:
        super().__init__()
        self.outages: dict[str, list[tuple[int, dict[str, str]]]] = {}
        self.refused: list[str] = []

    def fail_next_http(
        self, method: str, status: int, headers: dict[str, str] | None = None
    ) -> None:
        self.outages.setdefault(method, []).append((status, headers or {}))

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self
        base: Any = super().handler()

        class Handler(base):
            def _answer(self) -> None:
                method = urlsplit(self.path).path.removeprefix("/api/")
                queued = fake.outages.get(method)
                if not queued:
                    super()._answer()
                    return
                status, headers = queued.pop(0)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.refused.append(method)
                error = "ratelimited" if status == 429 else "internal_error"
                self._send(status, {"ok": False, "error": error}, headers)

        return Handler


def slack_client(fake: FakeSlack) -> WebClient:
    return web_client(slack_settings(fake))


def restarted_sender(
    fake: FakeSlack, engine: Engine, time: VirtualTime, *, client: WebClient | None = None
) -> SlackSender:
    """The Slack sender of the restarted process: look-ups and sends on virtual time."""
    sender = SlackSender(
        client or slack_client(fake),
        CONTENT,
        engine,
        lookups=tier_3(time),
        opens=tier_3(time),
    )
    sender.limiter = RecordedBudget(time, 10.0, per_conversation=1.0)
    return sender


def crash(
    engine: Engine,
    fake: FakeSlack,
    *,
    people: int,
    per_person: int,
    arrived: Callable[[int, int], bool],
) -> dict[str, str]:
    """``people`` Slack users with ``per_person`` due nudges each, all claimed by a process
    that posted those ``arrived(person, n)`` picks and died before recording anything.
    Returns each key's DM channel."""
    with Session(engine) as db:
        everyone = [
            Person(
                email=f"p{p}@example.com", name=f"P{p}", slack_user_id=f"U{p}", welcomed_at=CRASH
            )
            for p in range(people)
        ]
        db.add_all(everyone)
        db.flush()
        dms: dict[str, str] = {}
        for p, person in enumerate(everyone):
            assert person.id is not None
            for n in range(per_person):
                key = f"checkin:{p}:{n}"
                due = CRASH - timedelta(minutes=1)
                enqueue(db, OutboxMessage(key, person.id, "checkin", due, NUDGE))
                dms[key] = f"DU{p}"
        db.commit()
        claimed = claim_due(db, now=CRASH, limit=10_000)
        db.commit()
        assert len(claimed) == people * per_person
        by_id = {person.id: person for person in everyone}
        dying = SlackSender(slack_client(fake), CONTENT, engine)
        for message in claimed:
            p, n = (int(part) for part in message.key.split(":")[1:])
            if arrived(p, n):
                replies = [reply_from_dict(data) for data in message.payload]
                result = asyncio.run(dying.send(by_id[message.person_id], replies, key=message.key))
                assert result.ok
    return dms


def posted_keys(fake: FakeSlack) -> Counter[str]:
    return Counter(
        m["metadata"]["event_payload"]["key"]
        for messages in fake.history.values()
        for m in messages
    )


def rows(engine: Engine) -> dict[str, Outbound]:
    with Session(engine) as db:
        return {row.idempotency_key: row for row in db.exec(select(Outbound))}


def worker(engine: Engine, senders: list[Sender], at: list[datetime]) -> DeliveryWorker:
    return DeliveryWorker(engine, senders, clock=lambda: at[0])


def test_one_history_look_up_per_person_and_nothing_sent_twice(engine: Engine) -> None:
    people, per_person = 6, 3
    with FakeSlack() as fake:
        dms = crash(
            engine, fake, people=people, per_person=per_person, arrived=lambda p, n: n < p % 3
        )
        before = posted_keys(fake)
        assert 0 < sum(before.values()) < people * per_person
        time = VirtualTime()
        sender = restarted_sender(fake, engine, time)
        report = asyncio.run(worker(engine, [sender], [RESTART]).run_until_idle())
        history = fake.calls_to("conversations.history")
        opened = fake.calls_to("conversations.open")
        after = posted_keys(fake)
    assert len(history) == people  # one look-up per person serves all of their keys
    assert len(opened) == people  # the DM's channel id, asked once and stored
    assert after == Counter(dict.fromkeys(dms, 1))  # every message exactly once
    assert (report.sent, report.found, report.unknown) == (len(dms), sum(before.values()), 0)
    assert {(row.state, row.channel) for row in rows(engine).values()} == {("sent", "slack")}


def test_more_people_than_the_budget_are_looked_up_in_paced_batches(engine: Engine) -> None:
    people = 30
    with FakeSlack() as fake:
        crash(engine, fake, people=people, per_person=1, arrived=lambda p, n: p % 2 == 0)
        time = VirtualTime()
        sender = restarted_sender(fake, engine, time)
        delivery = worker(engine, [sender], [RESTART])
        look_ups = delivery.batch()[1]
        assert look_ups == TIER_3_BURST + int(delivery.pass_seconds * TIER_3_RATE)
        first = asyncio.run(delivery.run_once())
        assert first.claimed == look_ups < people
        assert len(fake.calls_to("conversations.history")) == look_ups
        waiting = [row for row in rows(engine).values() if row.state == "pending"]
        assert len(waiting) == people - look_ups
        for row in waiting:  # not claimed: exactly as recovery left them
            assert row.attempts == 1 and row.last_error
            assert row.last_error == f"{INTERRUPTED} (claimed {CRASH.isoformat()})"
        rest = asyncio.run(delivery.run_until_idle())
        history = fake.calls_to("conversations.history")
        after = posted_keys(fake)
    assert rest.passes > 2
    assert len(history) == people  # still one per person, over all the passes
    assert isinstance(sender.lookups, RecordedBudget) and isinstance(sender.opens, RecordedBudget)
    assert most_in_a_minute(sender.lookups.granted) <= TIER_3_PER_MINUTE
    assert most_in_a_minute(sender.opens.granted) <= TIER_3_PER_MINUTE
    assert time.t - 1_000.0 >= (people - TIER_3_BURST) / TIER_3_RATE - 2  # paced, not a burst
    assert set(after.values()) == {1} and len(after) == people
    assert first.found + rest.found == people // 2
    assert {row.state for row in rows(engine).values()} == {"sent"}


OUTAGES: dict[str, Callable[[SlackWithOutages], None]] = {
    "ratelimited": lambda fake: fake.fail_next("conversations.history", "ratelimited"),
    "http-429": lambda fake: fake.fail_next_http(
        "conversations.history", 429, {"Retry-After": "7"}
    ),
    "http-500": lambda fake: fake.fail_next_http("conversations.history", 500),
    "open-429": lambda fake: fake.fail_next_http("conversations.open", 429, {"Retry-After": "7"}),
}
WAIT_AT_LEAST = {"ratelimited": 30.0, "http-429": 7.0, "http-500": 0.0, "open-429": 7.0}


@pytest.mark.parametrize("outage", sorted(OUTAGES))
def test_a_failed_look_up_is_asked_again_later_never_taken_as_not_sent(
    engine: Engine, outage: str
) -> None:
    with SlackWithOutages() as fake:
        dms = crash(engine, fake, people=1, per_person=2, arrived=lambda p, n: n == 0)
        assert posted_keys(fake) == Counter({"checkin:0:0": 1})
        time = VirtualTime()
        sender = restarted_sender(fake, engine, time)
        at = [RESTART]
        delivery = worker(engine, [sender], at)
        OUTAGES[outage](fake)
        report = asyncio.run(delivery.run_until_idle())
        assert (report.claimed, report.unknown, report.sent) == (2, 2, 0)
        assert posted_keys(fake) == Counter({"checkin:0:0": 1})  # the missing one not sent
        for row in rows(engine).values():
            assert row.state == "failed"
            assert row.last_error is not None
            assert row.last_error.startswith(f"{INTERRUPTED} (claimed {CRASH.isoformat()});")
            assert row.not_before >= RESTART + timedelta(seconds=WAIT_AT_LEAST[outage])
        asked = len(fake.calls_to("conversations.history"))

        at[0] = RESTART + timedelta(seconds=1)  # before the backoff: not asked again yet
        assert asyncio.run(delivery.run_until_idle()).claimed == 0
        assert len(fake.calls_to("conversations.history")) == asked

        at[0] = RESTART + timedelta(hours=1)  # after it (and after the budget's hold)
        time.t += 3_600
        later = asyncio.run(delivery.run_until_idle())
        assert len(fake.calls_to("conversations.history")) == asked + 1
        after = posted_keys(fake)
    assert (later.sent, later.found, later.unknown) == (2, 1, 0)
    assert after == Counter(dict.fromkeys(dms, 1))  # settled or sent, each exactly once
    assert {row.state for row in rows(engine).values()} == {"sent"}


def test_a_throttled_look_up_holds_the_budget_for_the_rest_of_the_pass(engine: Engine) -> None:
    with SlackWithOutages() as fake:
        crash(engine, fake, people=4, per_person=1, arrived=lambda p, n: True)
        time = VirtualTime()
        sender = restarted_sender(fake, engine, time)
        fake.fail_next_http("conversations.history", 429, {"Retry-After": "60"})
        delivery = DeliveryWorker(engine, [sender], clock=lambda: RESTART, concurrency=1)
        report = asyncio.run(delivery.run_once())
        assert fake.refused == ["conversations.history"]
        assert len(fake.calls_to("conversations.history")) == 0  # the others waited, unasked
        assert (report.unknown, report.sent) == (4, 0)
        assert sender.lookups.held_for() > 50
        assert delivery.batch()[1] == 0  # no look-ups claimed while Slack asks us to wait
        assert set(posted_keys(fake).values()) == {1}
    assert {row.state for row in rows(engine).values()} == {"failed"}


def test_a_look_up_that_cannot_reach_slack_is_unknown(engine: Engine) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    with FakeSlack() as fake:
        crash(engine, fake, people=1, per_person=1, arrived=lambda p, n: True)
        time = VirtualTime()
        unreachable = WebClient(token="xoxb-test", base_url=f"http://127.0.0.1:{closed}/api/")
        sender = restarted_sender(fake, engine, time, client=unreachable)
        report = asyncio.run(worker(engine, [sender], [RESTART]).run_once())
        assert posted_keys(fake) == Counter({"checkin:0:0": 1})
    assert (report.unknown, report.sent, report.failed) == (1, 0, 0)
    [row] = rows(engine).values()
    assert row.state == "failed" and (row.last_error or "").startswith(INTERRUPTED)


def test_a_pass_claims_what_the_send_budget_serves_and_leaves_the_rest_untouched(
    engine: Engine,
) -> None:
    people = 30
    with FakeSlack() as fake:
        with Session(engine) as db:
            for p in range(people):
                person = Person(email=f"p{p}@example.com", name=f"P{p}", slack_user_id=f"U{p}")
                db.add(person)
                db.flush()
                assert person.id is not None
                enqueue(db, OutboxMessage(f"checkin:{p}", person.id, "checkin", CRASH, NUDGE))
            db.commit()
        time = VirtualTime()
        sender = restarted_sender(fake, engine, time)
        sender.limiter = RecordedBudget(time, 2.0, per_conversation=1.0)
        delivery = worker(engine, [sender], [CRASH])
        budget = int(delivery.pass_seconds * 2.0) + 1
        assert delivery.batch() == (budget, TIER_3_BURST + int(5 * TIER_3_RATE))
        first = asyncio.run(delivery.run_once())
        assert first.claimed == first.sent == budget
        untouched = [row for row in rows(engine).values() if row.state == "pending"]
        assert len(untouched) == people - budget
        assert {(row.attempts, row.not_before, row.last_error) for row in untouched} == {
            (0, CRASH, None)
        }
        passes = [first]
        while passes[-1].claimed:
            passes.append(asyncio.run(delivery.run_once()))
        assert all(0 < report.claimed <= budget + 1 for report in passes[:-1])
        assert sum(report.sent for report in passes) == people
        assert set(posted_keys(fake).values()) == {1}
    assert isinstance(sender.limiter, RecordedBudget)
    assert most_in_a_minute(sender.limiter.granted) <= 2 * 60 + 1


def test_what_a_pass_cannot_start_in_time_goes_back_untried(engine: Engine) -> None:
    """One person's 15 messages: Slack's spacing per conversation (1 a second) lets a pass
    start 11 of them within its window; the other 4 go back to pending, untried."""
    with FakeSlack() as fake:
        crash(engine, fake, people=1, per_person=15, arrived=lambda p, n: n == 0)
        time = VirtualTime()
        sender = restarted_sender(fake, engine, time)
        delivery = worker(engine, [sender], [RESTART])
        first = asyncio.run(delivery.run_once())
        window = int(2 * delivery.pass_seconds)  # slots at 0 s, 1 s … 10 s
        assert (first.claimed, first.found, first.sent) == (15, 1, 1 + window + 1)
        assert first.deferred == 15 - 1 - (window + 1)
        back = [row for row in rows(engine).values() if row.state == "pending"]
        assert len(back) == first.deferred
        for row in back:  # looked up (not there), then untried: no attempt, no marker
            assert (row.attempts, row.last_error, row.not_before) == (1, None, RESTART)
        rest = asyncio.run(delivery.run_until_idle())
        assert len(fake.calls_to("conversations.history")) == 1
        assert posted_keys(fake) == Counter({f"checkin:0:{n}": 1 for n in range(15)})
    assert (rest.sent, rest.found, rest.deferred) == (first.deferred, 0, 0)


def test_slow_sends_make_smaller_batches(engine: Engine) -> None:
    time = VirtualTime()
    with FakeSlack() as fake:
        sender = restarted_sender(fake, engine, time)
    delivery = DeliveryWorker(engine, [sender], clock=lambda: CRASH)
    before = delivery.batch()[0]
    time.t += 2
    sender.limiter.slow_down()  # Slack said 429: a tenth off the budget
    assert delivery.batch()[0] < before
    sender.limiter.hold(60)
    assert delivery.batch()[0] == 1  # at least one, always


def test_an_unknown_that_never_clears_dies_marked_and_retry_dead_looks_again(
    engine: Engine,
) -> None:
    with FakeSlack() as fake:
        crash(engine, fake, people=2, per_person=1, arrived=lambda p, n: p == 0)
        with session_scope(engine) as db:
            stuck = db.exec(select(Outbound).order_by(col(Outbound.id))).all()
            stuck[1].not_before = CRASH + timedelta(seconds=30)  # claimed a little later
            db.add(stuck[1])
        with session_scope(engine) as db:
            assert recover_stuck(db, older_than=RESTART) == 2
            for row in db.exec(select(Outbound)).all():
                row.attempts = MAX_ATTEMPTS
                mark_unknown(row, error="slack: conversations.history: ratelimited", now=RESTART)
                db.add(row)
        dead = rows(engine)
        assert {row.state for row in dead.values()} == {"dead"}
        assert (dead["checkin:0:0"].last_error or "").startswith(
            f"{INTERRUPTED} (claimed {CRASH.isoformat()});"
        )
        with session_scope(engine) as db:
            why = "not known yet whether it arrived: slack: conversations.history: ratelimited"
            assert status(db).dead_reasons == {
                f"{INTERRUPTED}; {why} (asked {MAX_ATTEMPTS} times)": 2  # one line for both
            }
            assert retry_dead(db, now=RESTART) == 2
        sender = restarted_sender(fake, engine, VirtualTime())
        report = asyncio.run(worker(engine, [sender], [RESTART]).run_until_idle())
        assert len(fake.calls_to("conversations.history")) == 2  # looked up, not sent blindly
        assert posted_keys(fake) == Counter({"checkin:0:0": 1, "checkin:1:0": 1})
    assert (report.sent, report.found) == (2, 1)


def test_claims_take_interrupted_rows_only_for_as_many_people_as_the_budget_allows(
    engine: Engine,
) -> None:
    with FakeSlack() as fake:
        crash(engine, fake, people=3, per_person=2, arrived=lambda p, n: False)
    with session_scope(engine) as db:
        recover_stuck(db, older_than=RESTART)
        person = db.exec(select(Person).order_by(col(Person.id))).first()
        assert person is not None and person.id is not None
        enqueue(db, OutboxMessage("new", person.id, "checkin", CRASH, NUDGE))
    with session_scope(engine) as db:  # Slack asked us to hold off look-ups: none claimed
        assert [message.key for message in claim_due(db, now=RESTART, reconcile_people=0)] == [
            "new"
        ]
    with session_scope(engine) as db:  # budget for one person: both of their rows
        taken = claim_due(db, now=RESTART, reconcile_people=1)
        assert sorted(message.key for message in taken) == ["checkin:0:0", "checkin:0:1"]
    left = [row for row in rows(engine).values() if row.state == "pending"]
    assert len(left) == 4 and all(row.attempts == 1 for row in left)


def test_a_second_crash_keeps_the_earliest_claim(engine: Engine) -> None:
    with FakeSlack() as fake:
        crash(engine, fake, people=1, per_person=1, arrived=lambda p, n: False)
    with session_scope(engine) as db:
        recover_stuck(db, older_than=RESTART)
    with session_scope(engine) as db:  # claimed again, and that process died too
        claim_due(db, now=RESTART, limit=10)
    with session_scope(engine) as db:
        recover_stuck(db, older_than=RESTART + timedelta(minutes=3))
    [row] = rows(engine).values()
    assert row.last_error == f"{INTERRUPTED} (claimed {CRASH.isoformat()})"


def test_teams_cannot_look_so_an_interrupted_message_is_sent_again(teams_world: Any) -> None:
    world, teams = teams_world, teams_world.teams
    teams.say("hi")
    teams.next_sent()
    with Session(world.engine) as db:
        kim = db.exec(select(Person)).one()
        assert kim.id is not None
        enqueue(db, OutboxMessage("checkin:t", kim.id, "checkin", CRASH, NUDGE))
        db.commit()
        claim_due(db, now=CRASH, limit=10)
        db.commit()
    sender = TeamsSender(world.bot)
    assert sender.lookups is None
    found = run(world.server.loop, sender.already_sent(kim, ["checkin:t", "x"], since=CRASH))
    assert found == {"checkin:t": NOT_SENT, "x": NOT_SENT}
    delivery = DeliveryWorker(world.engine, [sender], clock=lambda: RESTART)
    assert delivery.batch()[1] is None  # nothing to pace: no look-ups
    report: DeliveryReport = run(world.server.loop, delivery.run_once())
    assert (report.sent, report.found, report.unknown) == (1, 0, 0)
    assert "Time for a check-in?" in card_text(card_of(teams.next_sent()))


def test_the_look_up_budget_bursts_then_paces_and_honours_retry_after() -> None:
    time = VirtualTime()
    budget = tier_3(time)
    assert budget.budget(5) == TIER_3_BURST + int(5 * TIER_3_RATE)  # slots at 0 s … 4.5 s
    starts = [budget.reserve() for _ in range(TIER_3_BURST + 2)]
    assert starts[:TIER_3_BURST] == [time.t] * TIER_3_BURST  # the burst: at once
    assert starts[-1] == pytest.approx(time.t + 2 / TIER_3_RATE)  # then at the steady rate
    budget.hold(30)
    assert budget.budget(5) == 0
    assert asyncio.run(budget.acquire(within=10)) is False  # would wait past the hold: unknown
    assert budget.held_for() == pytest.approx(30)
    time.t += 30
    assert asyncio.run(budget.acquire(within=10)) is True
    assert budget.reserve(within=0) is None  # no burst right after a hold
    many = [budget.reserve() for _ in range(200)]
    assert most_in_a_minute([t for t in many if t is not None]) <= TIER_3_PER_MINUTE
