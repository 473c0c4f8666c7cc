"""100,000 people on PostgreSQL (a server of the benchmark's own, bench/postgres.py): a generated
organisation of 100,000 people and 10,000 managers with a year of history — 1,000,000 items
(bench/digest.py's generator), a monthly nudge per person in the outbox for twelve months
(1,200,000 rows, their text pruned as retention does) and a finished conversation each. Then,
one JSON object each (bench/report.py):

``scale.due_nudges``: one scheduler tick's nudges (``due_nudges`` + calm + enqueue, committed),
twice: the second tick a minute later finds the same people due and writes nothing new.
``scale.campaign_launch``: Growth Week launched to 100,000 people (bench/campaign.py's seeding,
in a database of its own on the same server), from launch to every first message enqueued.
``scale.digests``: every manager's digest composed through the guarded, audited reads, in a
process of its own (its peak RSS is the composing's alone).
``scale.participation``: HR's participation report over the year.

    .venv/bin/python bench/scale.py [--people 100000] [--managers 10000] [--items 1000000]

To iterate faster, ``--url postgresql://…/db`` uses a database of a server already running
instead of a server of the benchmark's own, and builds the organisation there only when it is
not there yet: a second run reuses it (the nudges of earlier runs' ticks are removed first, so
every run starts from the same year of history).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from bench.digest import NOW, build
from bench.postgres import NoPostgres, postgres_server, version
from bench.report import at_most, emit, exactly, machine, skipped
from bot.config import Settings
from bot.jobs import write_due_nudges
from dialogs.engine.calendar import is_working_day
from dialogs.engine.content import load_content
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import DialogSession, Outbound, Person

BENCHMARKS = ("scale.due_nudges", "scale.campaign_launch", "scale.digests", "scale.participation")


def history(engine: Engine, months: int = 12) -> int:
    """A nudge a month per person for ``months`` months (sent, text pruned), and one finished
    conversation each."""
    rng = random.Random(7)
    with engine.begin() as connection:
        people = connection.execute(select(Person.id)).scalars().all()
        rows = 0
        for month in range(months):
            batch = []
            for person_id in people:
                at = NOW - timedelta(days=30 * month + rng.uniform(0, 30))
                batch.append(
                    {
                        "idempotency_key": f"history:{person_id}:{month}",
                        "person_id": person_id,
                        "kind": ("checkin", "reflection")[month % 2],
                        "channel": "slack",
                        "payload": [],
                        "state": "sent",
                        "attempts": 1,
                        "not_before": at,
                        "created_at": at,
                        "sent_at": at,
                    }
                )
            connection.execute(insert(Outbound), batch)
            rows += len(batch)
        connection.execute(
            insert(DialogSession),
            [
                {
                    "person_id": person_id,
                    "dialog_id": "checkin",
                    "dialog_version": 1,
                    "step": "done",
                    "seq": 3,
                    "values": {},
                    "status": "done",
                    "created_at": NOW - timedelta(days=rng.uniform(0, 365)),
                    "updated_at": NOW - timedelta(days=rng.uniform(0, 365)),
                }
                for person_id in people
            ],
        )
    return rows


def _reused(engine: Engine, people: int) -> int | None:
    """With an organisation of ``people`` built by an earlier run (``--url``): its outbox back
    to the year of history (what earlier runs' ticks wrote removed); the history's row count.
    None: nothing built yet."""
    with engine.begin() as connection:
        built = connection.execute(select(func.count()).select_from(Person)).scalar_one()
        if built == 0:
            return None
        if built != people:
            raise SystemExit(f"--url: that database holds {built} people, not {people}")
        ticked = ~col(Outbound.idempotency_key).startswith("history:")
        connection.execute(delete(Outbound).where(ticked))
        return int(connection.execute(select(func.count()).select_from(Outbound)).scalar_one())


def tick(engine: Engine, minutes: int, last: int | None = None) -> tuple[float, int, int]:
    """One tick's nudges ``minutes`` after NOW (``last``: the minute of the last tick, as the
    scheduler passes it; None: a process that just started): seconds, how many due, how many
    new rows."""
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    content = load_content()
    at = NOW + timedelta(minutes=minutes)
    since = None if last is None else NOW + timedelta(minutes=last)
    started = time.perf_counter()
    with Session(engine) as db:
        due, added = write_due_nudges(db, settings, content, at, since=since)  # as the job does
        db.commit()
    return time.perf_counter() - started, due, added


def compose_all(url: str) -> None:
    """In a process of its own: every manager's digest; prints seconds, sections, peak RSS."""
    from dialogs.nudges.digest import compose_many

    engine = make_engine(url)
    content = load_content()
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as db:
        managers = list(db.exec(select(Person).where(Person.role == "manager")).scalars())
        since = {m.id: NOW - timedelta(days=7) for m in managers if m.id is not None}
        digests = compose_many(db, content, managers, now=NOW, min_group=5, since=since)
        sections = sum(len(digest.sections) for digest in digests)
        db.commit()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "managers": len(managers),
                "sections": sections,
                "seconds": seconds,
                "peak_rss_mb": peak,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--managers", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--compose", help=argparse.SUPPRESS)
    parser.add_argument("--nudges-only", action="store_true", help="scale.due_nudges alone")
    parser.add_argument(
        "--url", help="an existing PostgreSQL database to build in once and reuse (see above)"
    )
    args = parser.parse_args()
    if args.compose:
        compose_all(args.compose)
        return
    if args.url:
        run(args.url, args.people, args.managers, args.items, nudges_only=args.nudges_only)
        return
    try:
        with postgres_server() as url:
            run(url, args.people, args.managers, args.items, nudges_only=args.nudges_only)
    except NoPostgres as error:
        for name in BENCHMARKS:
            skipped(name, str(error))


def run(url: str, people: int, managers: int, items: int, *, nudges_only: bool = False) -> None:
    engine = make_engine(url)
    upgrade(engine)
    started = time.perf_counter()
    outbox_rows = _reused(engine, people)
    if outbox_rows is None:
        build(engine, people, managers, items)
        outbox_rows = history(engine)
    # VACUUM as autovacuum would have done over the year: the history's pages marked visible
    # to all, so indexes answer without visiting them, as they do in a database in use.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    built = round(time.perf_counter() - started, 1)
    org = {
        "database": version(),
        "people": people,
        "managers": managers,
        "items": items,
        "outbox_history_rows": outbox_rows,
        "build_seconds": built,
        "machine_at_start": machine(),
    }

    # The holiday calendars are imported once per process (0.3-0.5 s, part of starting up):
    # each tick is measured as the scheduler's, in a process that has them.
    is_working_day(NOW.date(), "NL")
    first, due, added = tick(engine, 60)  # 10:00 in Amsterdam: the 09:30 slot is due
    second, due_again, added_again = tick(engine, 61, last=60)  # the scheduler's next tick
    restarted, due_restarted, added_restarted = tick(engine, 62)  # a process just started
    emit(
        "scale.due_nudges",
        org
        | {
            "first_tick_seconds": round(first, 3),
            "due": due,
            "enqueued": added,
            "next_tick_seconds": round(second, 3),
            "due_next_tick": due_again,
            "enqueued_next_tick": added_again,
            "tick_after_restart_seconds": round(restarted, 3),
            "due_after_restart": due_restarted,
            "enqueued_after_restart": added_restarted,
        },
        [
            at_most(
                "due nudges, 100k people on PostgreSQL, s per tick",
                round(max(first, second, restarted), 3),
                3.0,
            ),
            exactly("new rows on the repeated tick", added_again, 0),
            exactly("new rows on the tick after a restart", added_restarted, 0),
        ],
    )
    if nudges_only:
        engine.dispose()
        return

    child = subprocess.run(
        [sys.executable, __file__, "--compose", url], capture_output=True, text=True, check=False
    )
    if child.returncode != 0:
        emit("scale.digests", org | {"error": child.stderr[-600:]}, [])
    else:
        composed = json.loads(child.stdout.strip().splitlines()[-1])
        emit(
            "scale.digests",
            org | composed,
            [
                at_most(
                    "all digests, 10k managers on PostgreSQL, s",
                    round(composed["seconds"], 2),
                    60.0,
                ),
                at_most("all digests, peak RSS MB", round(composed["peak_rss_mb"], 1), 1024.0),
            ],
        )

    from storage.reports import participation

    started = time.perf_counter()
    with Session(engine) as db:
        report = participation(db, start=date(2026, 1, 1), end=NOW.date(), min_group=5)
        db.commit()
    reported = time.perf_counter() - started
    emit(
        "scale.participation",
        org | {"seconds": round(reported, 3), "rows": len(report.rows)},
        [at_most("participation report, 100k people, s", round(reported, 3), 2.0)],
    )
    engine.dispose()
    launch(url, people)


def launch(url: str, people: int) -> None:
    """Growth Week to ``people`` people, in a database of its own on the same server."""
    from bench.campaign import FILE, seed, step_rows, timed_launch
    from dialogs.campaigns.spec import load_file

    admin = make_engine(url)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("CREATE DATABASE regie_bench_campaign"))
    admin.dispose()
    engine = make_engine(url.rsplit("/", 1)[0] + "/regie_bench_campaign")
    upgrade(engine)
    spec = load_file(FILE)
    seed(engine, people, spec.owner, "http://127.0.0.1:9/", opt_out_every=100)
    plan, seconds = timed_launch(engine, spec)
    first = step_rows(engine, spec, spec.steps[0].id)
    enqueued = sum(first.values())
    emit(
        "scale.campaign_launch",
        {
            "database": version(),
            "people": people,
            "recipients": len(plan.recipients),
            "launch_seconds": round(seconds, 3),
            "first_step_enqueued": enqueued,
            "machine_at_start": machine(),
        },
        [
            at_most("campaign launch to 100k, s", round(seconds, 3), 10.0),
            exactly("first messages enqueued = recipients", enqueued, len(plan.recipients)),
        ],
    )
    engine.dispose()


if __name__ == "__main__":
    main()
