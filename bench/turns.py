"""Turn benchmarks; one JSON object per benchmark (bench/report.py).

``turns.journey``: 1,000 simulated people through the whole journey (welcome, reflection,
experiment, check-in) via the real runtime on a SQLite *file* (WAL, synchronous=FULL: each turn
is committed durably before its replies are returned).

``turns.side_by_side``: the reflection conversation as a botbuilder-dialogs WaterfallDialog with
in-memory state (the usual Bot Framework way) and through Regie's Teams bot, both driven by
botbuilder's TestAdapter, interleaved person by person (bench/side_by_side.py): Regie on a SQLite
file with synchronous=FULL (the default), with synchronous=NORMAL
(``REGIE_SQLITE_SYNCHRONOUS=normal``), and on PostgreSQL (a server of the benchmark's own, fsync
on; skipped with the reason when there is no PostgreSQL here). Needs ``pip install -e '.[bench]'``.

    .venv/bin/python bench/turns.py [--people 1000] [--side-people 1000] [--no-postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlmodel import Session

from bench.postgres import NoPostgres, postgres_server
from bench.report import at_most, emit, latency_ms, machine, skipped
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--side-people", type=int, default=1000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="regie-bench-"))
    result = journey(args.people, folder / "journey.db")
    emit(
        "turns.journey",
        result,
        [
            at_most("journey turn p50 ms (sqlite FULL)", result["latency_ms"]["p50"], 2.0),  # type: ignore[index]
            at_most("journey turn p99 ms (sqlite FULL)", result["latency_ms"]["p99"], 5.0),  # type: ignore[index]
        ],
    )
    try:
        import botbuilder.dialogs  # noqa: F401
    except ImportError:
        skipped(
            "turns.side_by_side", "botbuilder-dialogs is not installed: pip install -e '.[bench]'"
        )
        return
    side(args.side_people, folder, postgres=not args.no_postgres)


def side(people: int, folder: Path, *, postgres: bool) -> None:
    from bench.side_by_side import side_by_side

    with ExitStack() as stack:
        engines = {
            "sqlite_full": make_engine(f"sqlite:///{folder / 'side-full.db'}"),
            "sqlite_normal": make_engine(
                f"sqlite:///{folder / 'side-normal.db'}", sqlite_synchronous="normal"
            ),
        }
        no_postgres = None
        if postgres:
            try:
                engines["postgres"] = make_engine(stack.enter_context(postgres_server()))
            except NoPostgres as error:
                no_postgres = str(error)
        else:
            no_postgres = "--no-postgres"
        for engine in engines.values():
            upgrade(engine)
        load = machine()
        latencies = side_by_side(people, engines)
        for engine in engines.values():
            engine.dispose()
    figures = {name: latency_ms(values) for name, values in latencies.items()}
    base = figures["baseline"]["p50"]
    ratios = {name: round(f["p50"] / base, 3) for name, f in figures.items() if name != "baseline"}
    # The spread of the ratio over blocks of 50 people: how much the machine's noise moves it.
    spread = {
        name: block_ratios(latencies["baseline"], values)
        for name, values in latencies.items()
        if name != "baseline"
    }
    result = {
        "conversation": "reflection, 5 turns a person, botbuilder TestAdapter, interleaved",
        "people": people,
        "machine_at_start": load,
        "latency_ms": figures,
        "ratio_p50_over_baseline": ratios,
        "ratio_p50_per_50_people_min_median_max": spread,
        "postgres": "ran" if no_postgres is None else f"skipped: {no_postgres}",
    }
    headline = [
        at_most(f"{layer} turn p50 / waterfall p50 ({database})", ratios.get(name), 1.5, "x")
        for name, layer, database in (
            ("regie_teams_sqlite_full", "teams", "sqlite FULL"),
            ("regie_runtime_sqlite_full", "runtime", "sqlite FULL"),
            ("regie_teams_sqlite_normal", "teams", "sqlite NORMAL"),
            ("regie_runtime_sqlite_normal", "runtime", "sqlite NORMAL"),
            ("regie_teams_postgres", "teams", "postgres"),
            ("regie_runtime_postgres", "runtime", "postgres"),
        )
    ]
    emit("turns.side_by_side", result, headline)


def block_ratios(baseline: list[float], variant: list[float], block: int = 250) -> list[float]:
    """p50 ratio per block of 50 people (5 turns each), as min, median and max."""
    ratios = [
        statistics.median(variant[i : i + block]) / statistics.median(baseline[i : i + block])
        for i in range(0, min(len(baseline), len(variant)), block)
    ]
    if not ratios:
        return []
    return [round(min(ratios), 3), round(statistics.median(ratios), 3), round(max(ratios), 3)]


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
        "latency_ms": latency_ms(latencies),
    }


if __name__ == "__main__":
    main()
