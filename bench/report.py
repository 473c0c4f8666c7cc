"""How every benchmark reports: one JSON object per benchmark on a line of its own (``emit``),
with a ``headline`` of the figures that have a target; ``bench/all.py`` turns the headlines of
all of them into a short table."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Figure:
    name: str
    value: float | int | str | None
    target: str
    met: bool | None
    """None when there is nothing to compare (skipped, or no target)."""


def at_most(name: str, value: float | None, limit: float, unit: str = "") -> Figure:
    return Figure(name, value, f"<= {limit}{unit}", None if value is None else value <= limit)


def at_least(name: str, value: float | None, floor: float, unit: str = "") -> Figure:
    return Figure(name, value, f">= {floor}{unit}", None if value is None else value >= floor)


def exactly(name: str, value: int | None, wanted: int) -> Figure:
    return Figure(name, value, f"= {wanted}", None if value is None else value == wanted)


def emit(benchmark: str, result: dict[str, Any], headline: list[Figure]) -> None:
    record = {"benchmark": benchmark, **result, "headline": [asdict(f) for f in headline]}
    print(json.dumps(record), flush=True)


def skipped(benchmark: str, reason: str) -> None:
    """A benchmark that could not run here, and why (shown in the table too)."""
    emit(benchmark, {"skipped": reason}, [Figure("skipped", reason, "", None)])


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[index]


def latency_ms(latencies: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in latencies)
    return {
        "p50": round(percentile(ms, 0.50), 3),
        "p95": round(percentile(ms, 0.95), 3),
        "p99": round(percentile(ms, 0.99), 3),
        "max": round(ms[-1], 3),
        "mean": round(statistics.fmean(ms), 3),
    }


def machine() -> dict[str, Any]:
    """What the figures ran on, and how busy it was when they started."""
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "load_average_1_5_15": [round(x, 2) for x in load],
    }
