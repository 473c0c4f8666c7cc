"""Two replicas on PostgreSQL sharing one outbox (a server of the benchmark's own,
bench/postgres.py), one JSON object each (bench/report.py):

``replicas.delivery``: ``--people`` Slack check-ins due; two ``regie run-due`` processes
deliver them at once through the rate-limited Slack fake (its own process, 1 % of 5xx); both
are configured with the enforced limit (``REGIE_SLACK_SEND_RATE``), which they share through
the database (``storage/send_budget.py``). Combined rate (as a fraction of the limit), lost,
duplicates, and what each replica delivered.

``replicas.takeover``: two scheduler processes (tests/bot/election_child.py, the real
``start_scheduler`` with its real ``TAKEOVER_SECONDS``); the scheduling one is killed with
SIGKILL; seconds until the other one schedules.

    .venv/bin/python bench/replicas.py [--people 4000] [--limit 100]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert
from sqlmodel import Session, select

from bench.fakes import FakeProcess
from bench.people import bench_person
from bench.postgres import NoPostgres, postgres_server, version
from bench.report import at_least, at_most, emit, exactly, machine, skipped
from bot.scheduler import TAKEOVER_SECONDS
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Outbound, Person

ROOT = Path(__file__).resolve().parents[1]
REGIE = str(Path(sys.executable).parent / "regie")
NOW = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)


def environment(url: str, slack_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
    return env | {
        "REGIE_DATABASE_URL": url,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "s",
        "REGIE_SLACK_API_URL": slack_url,
        **extra,
    }


def delivery(url: str, people: int, limit: float) -> dict[str, object]:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            insert(Person),
            [
                bench_person(n, NOW - timedelta(days=14), slack_user_id=f"U{n}")
                for n in range(people)
            ],
        )
    engine.dispose()
    with FakeProcess("slack", limit=limit, error_rate=0.01, seed=3) as slack:
        env = environment(url, slack.url, REGIE_SLACK_SEND_RATE=str(limit))
        started = time.perf_counter()
        runs = [
            subprocess.Popen(
                [REGIE, "run-due", "--now", NOW.isoformat()],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        first: float | None = None  # the processes' start-up is not delivery time
        while any(run.poll() is None for run in runs):
            if first is None and slack.report()["per_conversation"]:
                first = time.perf_counter()
            time.sleep(0.05)
        seconds = time.perf_counter() - (first or started)
        outputs = [run.communicate(timeout=60) for run in runs]
        errors = [err for _, err in outputs]
        each = [re.search(r"Delivered (\d+)", out) for out, _ in outputs]
        seen = slack.report()
    per_dm = seen["per_conversation"]
    delivered = sum(1 for n in per_dm.values() if n >= 1)
    engine = make_engine(url)
    with Session(engine) as db:
        states = dict(Counter(db.exec(select(Outbound.state)).all()))
    engine.dispose()
    retrying = states.get("failed", 0) + states.get("pending", 0)  # a 5xx: tried again later
    return {
        "database": version(),
        "people": people,
        "enforced_limit_per_s": limit,
        "replicas": 2,
        "send_rate_setting_per_s": limit,
        "shared_budget": "send_budget table (PostgreSQL)",
        "delivered_per_replica": [int(m.group(1)) if m else None for m in each],
        "seconds_first_to_last_delivery": round(seconds, 2),
        "combined_rate_fraction": round(delivered / seconds / limit, 3),
        "outbox_states": states,
        "retrying_later": retrying,
        "throttled_429": seen["throttled"],
        "injected_5xx": seen["errors"],
        "lost": people - delivered - retrying,
        "duplicates": sum(n - 1 for n in per_dm.values() if n > 1),
        "exit_codes": [run.returncode for run in runs],
        "stderr_tail": [e.strip()[-300:] for e in errors if e.strip()],
    }


class Scheduler:
    def __init__(self, url: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.bot.election_child",
                url,
                str(TAKEOVER_SECONDS),
            ],
            cwd=ROOT,
            env=env | {"REGIE_DATABASE_URL": url},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[tuple[float, str]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append((time.perf_counter(), line))

    def when(self, text: str, timeout: float) -> float | None:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for at, line in list(self.lines):
                if text in line:
                    return at
            time.sleep(0.05)
        return None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def takeover(url: str) -> dict[str, object]:
    first = Scheduler(url)
    second: Scheduler | None = None
    try:
        if first.when("job regie:run-due ran", 120) is None:
            return {"error": "the first scheduler never ran its job"}
        second = Scheduler(url)
        if second.when("already runs the scheduler", 120) is None:
            return {"error": "the second process never said another one schedules"}
        killed = time.perf_counter()
        first.process.send_signal(signal.SIGKILL)
        took = second.when("this process now runs the scheduler", TAKEOVER_SECONDS * 4)
        ran = second.when("job regie:run-due ran", 60)
    finally:
        first.stop()
        if second is not None:
            second.stop()
    return {
        "database": version(),
        "retry_every_seconds": TAKEOVER_SECONDS,
        "takeover_seconds": None if took is None else round(took - killed, 2),
        "first_job_after_kill_seconds": None if ran is None else round(ran - killed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=4000)
    parser.add_argument("--limit", type=float, default=100.0)
    args = parser.parse_args()
    load = machine()
    try:
        with postgres_server() as url:
            result = delivery(url, args.people, args.limit)
            lost, twice = result["lost"], result["duplicates"]
            assert isinstance(lost, int) and isinstance(twice, int)
            emit(
                "replicas.delivery",
                result | {"machine_at_start": load},
                [
                    at_least(
                        "two replicas, combined fraction of the limit",
                        result["combined_rate_fraction"],  # type: ignore[arg-type]
                        0.95,
                    ),
                    exactly("two replicas, lost", lost, 0),
                    exactly("two replicas, duplicates", twice, 0),
                ],
            )
        with postgres_server() as url:
            upgrade(make_engine(url))
            moved = takeover(url)
            emit(
                "replicas.takeover",
                moved,
                [
                    at_most(
                        "scheduler takeover after SIGKILL, s",
                        moved.get("takeover_seconds"),  # type: ignore[arg-type]
                        60.0,
                    )
                ],
            )
    except NoPostgres as error:
        skipped("replicas.delivery", str(error))
        skipped("replicas.takeover", str(error))


if __name__ == "__main__":
    main()
