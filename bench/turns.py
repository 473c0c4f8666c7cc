"""Benchmarks, printed as one JSON document.

``journey``: 1,000 simulated people through the whole journey (welcome, reflection, experiment,
check-in) via the real runtime on a SQLite *file* (WAL, synchronous=FULL: each turn is committed
durably before its replies are returned).

``side_by_side``: the same reflection conversation as a botbuilder-dialogs WaterfallDialog with
in-memory state (the usual Bot Framework way) and through Regie's Teams bot persisting to
SQLite, both driven by botbuilder's TestAdapter (needs ``pip install -e '.[bench]'``).

    .venv/bin/python bench/turns.py [--people 1000] [--side-people 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlmodel import Session

from dialogs.engine.content import load_content
from dialogs.engine.replies import Prompt
from dialogs.engine.runtime import Runtime
from dialogs.engine.turn import Turn
from dialogs.registry import DIALOGS
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Person

JOURNEY = [
    "hi",  # welcome: promise, then language
    "en",
    "yes",  # time zone is right
    "2",  # every two weeks -> menu
    "reflect",
    "What I enjoy most is untangling a messy problem with a customer.",
    "skip",
    "Leading a small team one day 🌱",
    "1",  # turn it into an experiment
    "own",
    "Join the finance team's stand-up",
    "To see where our invoices go",
    "15-12",
    "checkin",
    "4",
    "doing",
    "Ask Priya for an hour next week",
]


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--side-people", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="regie-bench-"))
    result = {"journey": journey(args.people, folder / "journey.db")}
    result["side_by_side"] = side_by_side(args.side_people, folder / "side.db")
    print(json.dumps(result, indent=2))


def figures(latencies: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in latencies)
    return {
        "p50": round(percentile(ms, 0.50), 3),
        "p95": round(percentile(ms, 0.95), 3),
        "p99": round(percentile(ms, 0.99), 3),
        "max": round(ms[-1], 3),
        "mean": round(statistics.fmean(ms), 3),
    }


def side_by_side(people: int, db_path: Path) -> dict[str, object]:
    try:
        import botbuilder.dialogs  # noqa: F401
    except ImportError:
        return {"skipped": "botbuilder-dialogs is not installed: pip install -e '.[bench]'"}
    from bench.side_by_side import baseline, regie_teams

    base = figures(baseline(people))
    regie = figures(regie_teams(people, db_path))
    return {
        "conversation": "reflection, 5 turns a person, through botbuilder's TestAdapter",
        "people": people,
        "baseline_waterfall_memorystorage_ms": base,
        "regie_teams_bot_sqlite_file_ms": regie,
        "ratio_p50_regie_over_baseline": round(regie["p50"] / base["p50"], 3),
        "target": "regie p50 <= baseline p50",
    }


def journey(people_count: int, db_path: Path) -> dict[str, object]:
    engine = make_engine(f"sqlite:///{db_path}")
    upgrade(engine)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with Session(engine) as db:
        people = [
            Person(email=f"person{n}@bench.example", name=f"Person {n}")
            for n in range(people_count)
        ]
        db.add_all(people)
        db.commit()
        ids = [p.id for p in people]
    runtime = Runtime(engine, dialogs=DIALOGS, content=load_content(), clock=lambda: now)

    latencies: list[float] = []
    asked = 0
    started = time.perf_counter()
    for person_id in ids:
        assert person_id is not None
        for line in JOURNEY:
            t0 = time.perf_counter()
            replies = runtime.handle(Turn(person_id=person_id, text=line))
            latencies.append(time.perf_counter() - t0)
            asked += any(isinstance(r, Prompt) for r in replies)
    elapsed = time.perf_counter() - started

    with Session(engine) as db:
        saved = {
            table: db.exec(text(f"SELECT count(*) FROM {table}")).one()[0]  # type: ignore[call-overload]
            for table in ("answer", "experiment", "check_in")
        }
    engine.dispose()
    return {
        "database": "sqlite file (WAL, synchronous=FULL)",
        "people": people_count,
        "turns": len(latencies),
        "turns_with_a_question": asked,
        "rows_saved": saved,
        "seconds": round(elapsed, 3),
        "turns_per_s": round(len(latencies) / elapsed, 1),
        "latency_ms": figures(latencies),
        "target_ms": {"p50": 2.0, "p99": 5.0},
    }


if __name__ == "__main__":
    main()
