"""``make bench``: every benchmark, one after the other (each in a process of its own), their
JSON objects passed through as they come — one a line, ``{"benchmark": ..., "headline": [...]}``
— and at the end a short table of every headline figure against its target.

    .venv/bin/python bench/all.py [--quick] [--only turns,scale,...]

``--quick`` runs each with small numbers (a smoke test of the benchmarks, not figures to quote).
A script that prints one JSON document instead of objects a line is reported as one benchmark
named after it. PostgreSQL runs start their own server (bench/postgres.py) or report themselves
skipped with the reason.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from bench.report import machine  # noqa: E402

SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    # name: (arguments, --quick arguments)
    "startup": ([], ["--runs", "1"]),
    "turns": ([], ["--people", "50", "--side-people", "100"]),
    "delivery": ([], ["--recipients", "1000", "--crash-recipients", "200", "--people", "5000"]),
    "digest": ([], ["--people", "2000", "--managers", "200", "--items", "20000"]),
    "campaign": ([], ["--people", "1000", "--deliver", "1000"]),
    "scale": ([], ["--people", "5000", "--managers", "500", "--items", "50000"]),
    "replicas": ([], ["--people", "500"]),
    "web": ([], ["--people", "2000", "--managers", "200", "--items", "20000", "--samples", "50"]),
}


def run(name: str, arguments: list[str]) -> list[dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(HERE / f"{name}.py"), *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = round(time.perf_counter() - started, 1)
    records = [
        json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"benchmark"')
    ]
    if not records and done.stdout.strip().startswith("{"):
        try:
            records = [{"benchmark": name, **json.loads(done.stdout), "headline": []}]
        except json.JSONDecodeError:
            records = []
    if done.returncode != 0 or not records:
        records.append(
            {
                "benchmark": name,
                "error": f"exit {done.returncode}: {done.stderr.strip()[-800:]}",
                "headline": [{"name": "failed", "value": None, "target": "", "met": False}],
            }
        )
    for record in records:
        record.setdefault("wall_seconds_of_script", seconds)
        print(json.dumps(record), flush=True)
    return records


def table(records: list[dict[str, Any]]) -> str:
    rows = [("benchmark", "figure", "value", "target", "")]
    for record in records:
        for figure in record.get("headline", []):
            met = {True: "ok", False: "MISS", None: "-"}[figure.get("met")]
            value = figure.get("value")
            shown = value if isinstance(value, str) else json.dumps(value)
            rows.append(
                (record["benchmark"], figure["name"], str(shown)[:60], figure["target"], met)
            )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(SCRIPTS))
    args = parser.parse_args()
    chosen = [n for n in args.only.split(",") if n] or list(SCRIPTS)
    unknown = set(chosen) - set(SCRIPTS)
    if unknown:
        sys.exit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    print(json.dumps({"benchmark": "machine", **machine(), "headline": []}), flush=True)
    records: list[dict[str, Any]] = []
    for name in chosen:
        full, quick = SCRIPTS[name]
        records += run(name, quick if args.quick else full)
    print()
    print(table(records))
    print(f"\nload average at the end: {machine()['load_average_1_5_15']}")


if __name__ == "__main__":
    main()
