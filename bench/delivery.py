"""Benchmark: the outbox delivering to 10,000 recipients (half Slack, half Teams) against local
fakes that enforce a rate limit (429 + Retry-After) and fail 1% of requests with a 5xx; a crash
in the middle of delivering 2,000 Slack messages and the paced recovery after it (history
look-ups per recovered message, at Slack's Tier 3 pace); and the time to compute the due nudges
for 100,000 people on SQLite. Prints JSON.

    .venv/bin/python bench/delivery.py [--recipients 10000] [--limit 100] [--people 100000]
        [--crash-recipients 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bench.fakes import FakeProcess
from bench.people import bench_person
from bench.report import at_least, at_most, emit, exactly, machine
from bot.channels.slack.client import web_client
from bot.channels.slack.outbound import SlackSender
from bot.channels.teams.adapter import build_teams
from bot.channels.teams.outbound import TeamsSender
from bot.config import Settings
from bot.delivery import DeliveryReport, DeliveryWorker
from bot.ratelimit import TIER_3_BURST, TIER_3_PER_MINUTE, TIER_3_RATE, AdaptiveRate
from bot.wiring import build_runtime
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from dialogs.engine.replies import Offer, reply_to_dict
from dialogs.nudges.rules import due_nudges
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import ChannelAddress, Outbound, OutboxState, Person
from storage.outbox import OutboxMessage, enqueue
from tests.bot.slack_fake import FakeSlack

NOW = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
PAYLOAD = [reply_to_dict(Offer("Time for a quick check-in?", (("checkin", "Check in now"),)))]


def setup(engine: Engine, recipients: int, connector_url: str) -> None:
    people = [
        bench_person(
            n,
            NOW,
            slack_user_id=f"U{n}" if n % 2 == 0 else None,
            teams_aad_id=f"aad-{n}" if n % 2 else None,
        )
        for n in range(recipients)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Person), people)
    with Session(engine) as db:
        # The hard case, on purpose: every Slack row enqueued before every Teams row (a
        # campaign to the Slack half queued first); each platform must still get its budget.
        ids = db.exec(
            select(Person.id, Person.teams_aad_id).order_by(
                col(Person.teams_aad_id).is_not(None), col(Person.id)
            )
        ).all()
        for person_id, aad in ids:
            assert person_id is not None
            if aad:
                db.add(
                    ChannelAddress(
                        person_id=person_id,
                        channel="teams",
                        updated_at=NOW,
                        address={
                            "activityId": "a",
                            "bot": {"id": "28:bot", "name": "Regie"},
                            "user": {"id": f"29:{aad}", "name": "P", "aadObjectId": aad},
                            "conversation": {"id": f"a:{aad}", "conversationType": "personal"},
                            "channelId": "msteams",
                            "serviceUrl": connector_url,
                        },
                    )
                )
            enqueue(db, OutboxMessage(f"bench:{person_id}", person_id, "checkin", NOW, PAYLOAD))
        db.commit()


def delivery(
    recipients: int, limit: float, folder: Path, database_url: str | None = None
) -> dict[str, object]:
    """The fakes run in processes of their own (bench/fakes.py); the database is a SQLite file
    in ``folder`` unless ``database_url`` names another (migrated here)."""
    engine = make_engine(database_url or f"sqlite:///{folder / 'delivery.db'}")
    upgrade(engine)
    slack_fake = FakeProcess("slack", limit=limit, error_rate=0.01, seed=1)
    connector = FakeProcess("teams", limit=limit, error_rate=0.01, seed=2)
    setup(engine, recipients, connector.url)
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="s",  # type: ignore[call-arg]
        slack_api_url=slack_fake.url,
        teams_allow_unauthenticated=True,
    )
    runtime = build_runtime(settings, engine)
    client = web_client(settings)
    client.retry_handlers.clear()  # 429s go back to the outbox, which slows its own budget
    slack = SlackSender(client, load_content(), engine, rate=limit)
    offset = [timedelta(0)]
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    async def teams_sender() -> TeamsSender:
        return TeamsSender(build_teams(runtime, engine, settings), rate=limit, per_conversation=7)

    teams = asyncio.run_coroutine_threadsafe(teams_sender(), loop).result()
    worker = DeliveryWorker(engine, [slack, teams], clock=lambda: NOW + offset[0], concurrency=32)
    finished: dict[str, list[float]] = {"slack": [], "teams": []}
    for sender in (slack, teams):
        original = sender.send

        async def timed(person, replies, *, key, _send=original, _name=sender.channel):
            result = await _send(person, replies, key=key)
            if result.ok:
                finished[_name].append(time.perf_counter())
            return result

        sender.send = timed  # type: ignore[method-assign]

    passes = [0]

    def run_pass() -> None:
        """Everything due at the worker's instant, in passes the send budgets can serve."""
        done = asyncio.run_coroutine_threadsafe(worker.run_until_idle(), loop).result()
        passes[0] += done.passes

    started = time.perf_counter()
    run_pass()
    rates = {
        name: round(len(times) / (max(times) - started) / limit, 3) if times else None
        for name, times in finished.items()
    }
    first_pass = time.perf_counter() - started
    rounds = 1
    while rounds < 20:
        with Session(engine) as db:
            waiting = len(db.exec(select(Outbound.id).where(Outbound.state != "sent")).all())
        if not waiting:
            break
        offset[0] += timedelta(hours=3)  # skip the backoff wait: the retries are due now
        run_pass()
        rounds += 1
    total = time.perf_counter() - started
    slack_seen, teams_seen = slack_fake.report(), connector.report()
    slack_fake.stop()
    connector.stop()
    slack_counts = Counter(slack_seen["per_conversation"])
    teams_counts = Counter(teams_seen["per_conversation"])
    with Session(engine) as db:
        states = Counter(db.exec(select(Outbound.state)).all())
    engine.dispose()
    loop.call_soon_threadsafe(loop.stop)
    half = recipients // 2
    slack_sent = sum(1 for n in slack_counts.values() if n >= 1)
    teams_sent = sum(1 for n in teams_counts.values() if n >= 1)
    return {
        "recipients": recipients,
        "outbox_order": "every Slack row enqueued before every Teams row",
        "enforced_limit_per_s": limit,
        "first_pass_seconds": round(first_pass, 2),
        "total_seconds_with_retries": round(total, 2),
        "rounds": rounds,
        "passes": passes[0],
        "achieved_rate_fraction": rates,
        "throttled_429": {"slack": slack_seen["throttled"], "teams": teams_seen["throttled"]},
        "injected_5xx": {"slack": slack_seen["errors"], "teams": teams_seen["errors"]},
        "lost": {"slack": half - slack_sent, "teams": (recipients - half) - teams_sent},
        "duplicates": {
            "slack": sum(n - 1 for n in slack_counts.values() if n > 1),
            "teams": sum(n - 1 for n in teams_counts.values() if n > 1),
        },
        "outbox_states": dict(states),
        "targets": {"achieved_rate_fraction": ">= 0.95", "lost": 0, "duplicates_slack": 0},
    }


class VirtualTime:
    """A monotonic clock that a wait moves on (once the tasks ready at that instant have taken
    their slots): the budgets pace as they would in real time, and the benchmark reports the
    time that pacing takes without spending it."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t

    async def sleep(self, delay: float) -> None:
        until = self.t + max(0.0, delay)
        await asyncio.sleep(0)  # the tasks ready now take their slots at this same instant
        self.t = max(self.t, until)


class CountedBudget(AdaptiveRate):
    """A budget that remembers when each slot it gave out starts."""

    def __init__(
        self,
        rate: float,
        clock: VirtualTime,
        *,
        burst: int = 1,
        per_conversation: float | None = None,
    ) -> None:
        super().__init__(
            rate,
            burst=burst,
            per_conversation=per_conversation,
            clock=clock.now,
            sleep=clock.sleep,
        )
        self.granted: list[float] = []

    def reserve(self, conversation: str = "", *, within: float | None = None) -> float | None:
        at = super().reserve(conversation, within=within)
        if at is not None:
            self.granted.append(at)
        return at


def _most_in_a_minute(moments: list[float]) -> int:
    moments = sorted(moments)
    most, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= 60:
            start += 1
        most = max(most, end - start + 1)
    return most


def recovery(messages: int, folder: Path) -> dict[str, object]:
    """``regie run-due`` killed half-way through ``messages`` Slack nudges (one per person),
    then restarted three minutes later. Sends at Regie's default Slack budget (10 a second);
    look-ups at Slack's Tier 3 pace; both on virtual time, so the figures in seconds are what
    the pacing takes on real Slack."""
    engine = make_engine(f"sqlite:///{folder / 'recovery.db'}")
    upgrade(engine)
    fake = FakeSlack().start()
    people = [
        {
            "email": f"r{n}@bench.example",
            "name": f"R{n}",
            "role": "employee",
            "language": "en",
            "timezone": "Europe/Amsterdam",
            "country": "NL",
            "department": "",
            "nudge_frequency": "biweekly",
            "default_visibility": "private",
            "in_aggregates": True,
            "welcomed_at": NOW,
            "created_at": NOW,
            "slack_user_id": f"U{n}",
        }
        for n in range(messages)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Person), people)
    with Session(engine) as db:
        for person_id in db.exec(select(Person.id)).all():
            assert person_id is not None
            enqueue(db, OutboxMessage(f"recovery:{person_id}", person_id, "checkin", NOW, PAYLOAD))
        db.commit()
    settings = Settings(
        _env_file=None,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="s",  # type: ignore[call-arg]
        slack_api_url=fake.url,
    )
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()

    def slack(clock: VirtualTime) -> SlackSender:
        sender = SlackSender(
            web_client(settings),
            load_content(),
            engine,
            lookups=CountedBudget(TIER_3_RATE, clock, burst=TIER_3_BURST),
            opens=CountedBudget(TIER_3_RATE, clock, burst=TIER_3_BURST),
        )
        sender.limiter = CountedBudget(settings.slack_send_rate, clock, per_conversation=1.0)
        return sender

    dying = DeliveryWorker(engine, [slack(VirtualTime())], clock=lambda: NOW)
    running = asyncio.run_coroutine_threadsafe(dying.run_until_idle(), loop)
    while len(fake.calls_to("chat.postMessage")) < messages // 2 and not running.done():
        time.sleep(0.005)
    running.cancel()  # the crash: claimed rows stay "sending", nothing more is recorded
    time.sleep(1.0)  # sends already on the wire land
    with Session(engine) as db:
        interrupted = len(
            db.exec(select(Outbound.id).where(Outbound.state == OutboxState.SENDING)).all()
        )
    posted_before = len(fake.calls_to("chat.postMessage"))
    clock = VirtualTime()
    sender = slack(clock)
    restarted = DeliveryWorker(engine, [sender], clock=lambda: NOW + timedelta(minutes=3))
    started = time.perf_counter()
    report: DeliveryReport = asyncio.run_coroutine_threadsafe(
        restarted.run_until_idle(), loop
    ).result()
    seconds = time.perf_counter() - started
    look_ups = len(fake.calls_to("conversations.history"))
    per_dm = Counter(
        m["metadata"]["event_payload"]["key"] for ms in fake.history.values() for m in ms
    )
    with Session(engine) as db:
        states = Counter(db.exec(select(Outbound.state)).all())
    loop.call_soon_threadsafe(loop.stop)
    fake.stop()
    assert isinstance(sender.lookups, CountedBudget)
    return {
        "messages": messages,
        "send_budget_per_s": settings.slack_send_rate,
        "posted_before_the_crash": posted_before,
        "interrupted": interrupted,
        "found_delivered": report.found,
        "history_look_ups": look_ups,
        "look_ups_per_recovered_message": round(look_ups / max(1, interrupted), 3),
        "look_ups_per_message": round(look_ups / messages, 3),
        "most_look_ups_in_a_minute": _most_in_a_minute(sender.lookups.granted),
        "look_ups_paced_seconds": round(
            (max(sender.lookups.granted) - min(sender.lookups.granted))
            if sender.lookups.granted
            else 0.0,
            1,
        ),
        "passes_after_restart": report.passes,
        "unknown": report.unknown,
        "duplicates": sum(n - 1 for n in per_dm.values() if n > 1),
        "lost": messages - len(per_dm),
        "outbox_states": dict(states),
        "wall_seconds": round(seconds, 2),
        "targets": {
            "look_ups_per_recovered_message": "<= 1",
            "most_look_ups_in_a_minute": f"<= {TIER_3_PER_MINUTE}",
            "duplicates": 0,
            "lost": 0,
        },
    }


def due_time(people: int, folder: Path) -> dict[str, object]:
    engine = make_engine(f"sqlite:///{folder / 'due.db'}")
    upgrade(engine)
    zones = ["Europe/Amsterdam", "Europe/London", "America/New_York", "Asia/Tokyo"]
    rows = [
        {
            "email": f"p{n}@bench.example",
            "name": f"P {n}",
            "role": "employee",
            "language": "nl" if n % 2 else "en",
            "timezone": zones[n % 4],
            "country": "NL",
            "department": "",
            "default_visibility": "private",
            "nudge_frequency": ("weekly", "biweekly", "monthly")[n % 3],
            "in_aggregates": True,
            "welcomed_at": NOW - timedelta(days=n % 40),
            "created_at": NOW,
        }
        for n in range(people)
    ]
    with engine.begin() as connection:
        connection.execute(insert(Person), rows)
    started = time.perf_counter()
    with Session(engine) as db:
        found = due_nudges(db, load_content(), now=NOW, policy=NudgePolicy())
    seconds = time.perf_counter() - started
    return {
        "people": people,
        "due": len(found),
        "seconds": round(seconds, 3),
        "target_seconds": 2.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--limit", type=float, default=100.0)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--crash-recipients", type=int, default=2_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="regie-bench-"))
    load = machine()
    sent = delivery(args.recipients, args.limit, folder)
    rates, lost, twice = sent["achieved_rate_fraction"], sent["lost"], sent["duplicates"]
    assert isinstance(rates, dict) and isinstance(lost, dict) and isinstance(twice, dict)
    emit(
        "delivery.outbox",
        sent | {"machine_at_start": load},
        [
            at_least("Slack delivery, fraction of the enforced limit", rates["slack"], 0.95),
            at_least("Teams delivery, fraction of the enforced limit", rates["teams"], 0.95),
            exactly("messages lost", lost["slack"] + lost["teams"], 0),
            exactly("Slack duplicates", twice["slack"], 0),
        ],
    )
    recovered = recovery(args.crash_recipients, folder)
    emit(
        "delivery.crash_recovery",
        recovered,
        [
            exactly("lost after a crash", recovered["lost"], 0),  # type: ignore[arg-type]
            exactly("duplicates after a crash (Slack)", recovered["duplicates"], 0),  # type: ignore[arg-type]
        ],
    )
    due = due_time(args.people, folder)
    emit(
        "delivery.due_nudges_sqlite",
        due,
        [at_most("due nudges, 100k people on SQLite, s", due["seconds"], 2.0)],  # type: ignore[arg-type]
    )


if __name__ == "__main__":
    main()
