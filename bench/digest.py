"""Benchmark: a synthetic organisation of 10,000 people and 1,000 managers with a year of history
(about 500,000 items, a third shared with the manager). Composes every manager's digest through
the guarded, audited reads, then runs HR's participation report. Prints JSON.

    .venv/bin/python bench/digest.py [--people 10000] [--managers 1000] [--items 500000]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert
from sqlmodel import Session, select

from bench.report import at_most, emit
from dialogs.engine.content import load_content
from dialogs.nudges.digest import compose_many
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Answer, CheckIn, Experiment, Person, PlanItem
from storage.reports import participation

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def build(engine, people: int, managers: int, items: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(42)
    base = {
        "role": "employee",
        "language": "en",
        "timezone": "Europe/Amsterdam",
        "country": "NL",
        "nudge_frequency": "biweekly",
        "default_visibility": "private",
        "in_aggregates": True,
        "welcomed_at": NOW - timedelta(days=200),
        "created_at": NOW - timedelta(days=365),
        "start_date": None,
        "slack_user_id": None,
        "teams_aad_id": None,
    }
    with engine.begin() as connection:
        connection.execute(
            insert(Person),
            [
                base
                | {
                    "email": f"m{n}@bench.example",
                    "name": f"Manager {n}",
                    "role": "manager",
                    "department": f"D{n % 20}",
                    "manager_id": None,
                }
                for n in range(managers)
            ],
        )
        connection.execute(
            insert(Person),
            [
                base
                | {
                    "email": f"p{n}@bench.example",
                    "name": f"Person {n}",
                    "department": f"D{n % 20}",
                    "manager_id": 1 + n % managers,
                    "in_aggregates": rng.random() > 0.1,
                }
                for n in range(people - managers)
            ],
        )
    first_report = managers + 1
    owners = list(range(first_report, people + 1))

    def when() -> datetime:
        return NOW - timedelta(days=rng.uniform(0, 365))

    def shared() -> str:
        return "manager" if rng.random() < 1 / 3 else "private"

    per_kind = items // 4
    tables = {
        Experiment: lambda: {
            "title": "Shadow a colleague in another department",
            "status": rng.choice(["planned", "doing", "done", "dropped"]),
            "learned": "More than I expected",
            "why": "",
            "updated_at": NOW - timedelta(days=rng.uniform(0, 365)),
        },
        Answer: lambda: {
            "dialog_id": "reflection",
            "question_id": "dot-on-horizon",
            "text": "Lead a team",
        },
        CheckIn: lambda: {"energy": rng.randint(1, 5), "next_step": "Ask for feedback"},
        PlanItem: lambda: {"kind": "personal", "title": "Finish a course", "status": "open"},
    }
    with engine.begin() as connection:
        for model, extra in tables.items():
            rows = []
            for _ in range(per_kind):
                at = when()
                row = {
                    "person_id": rng.choice(owners),
                    "visibility": shared(),
                    "in_aggregates": True,
                    "created_at": at,
                } | extra()
                if model is Experiment:
                    row["done_at"] = at if row["status"] == "done" else None
                rows.append(row)
            connection.execute(insert(model), rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--managers", type=int, default=1_000)
    parser.add_argument("--items", type=int, default=500_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="regie-bench-"))
    engine = make_engine(f"sqlite:///{folder / 'digest.db'}")
    upgrade(engine)
    started = time.perf_counter()
    build(engine, args.people, args.managers, args.items)
    built = time.perf_counter() - started
    content = load_content()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with Session(engine, expire_on_commit=False) as db:
        managers = list(db.exec(select(Person).where(Person.role == "manager")))
        since = {m.id: NOW - timedelta(days=7) for m in managers if m.id is not None}
        digests = compose_many(db, content, managers, now=NOW, min_group=5, since=since)
        sections = sum(len(digest.sections) for digest in digests)
        db.commit()
    composed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    with Session(engine) as db:
        report = participation(db, start=date(2026, 1, 1), end=NOW.date(), min_group=5)
        db.commit()
    reported = time.perf_counter() - started
    result = {
        "people": args.people,
        "managers": len(managers),
        "items": args.items,
        "build_seconds": round(built, 1),
        "compose_all_digests_seconds": round(composed, 2),
        "digest_sections": sections,
        "peak_rss_mb": round(peak_mb, 1),
        "rss_before_compose_mb": round(rss_before / 1024, 1),
        "participation_report_seconds": round(reported, 3),
        "report_rows": len(report.rows),
    }
    emit(
        "digest.sqlite_10k",
        result,
        [
            at_most("all digests, 1k managers on SQLite, s", round(composed, 2), 10.0),
            at_most("digests on SQLite, peak RSS MB", round(peak_mb, 1), 300.0),
            at_most("participation report on SQLite, s", round(reported, 3), 2.0),
        ],
    )


if __name__ == "__main__":
    main()
