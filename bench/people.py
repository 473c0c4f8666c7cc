"""The generated person every benchmark inserts in bulk (one row of ``person`` as a mapping)."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def bench_person(n: int, since: datetime, **extra: Any) -> dict[str, Any]:
    """Person ``n`` of a benchmark organisation, welcomed at ``since``; ``extra`` adds or
    replaces columns (platform ids, name, department…)."""
    return {
        "email": f"p{n}@bench.example",
        "name": f"P{n}",
        "role": "employee",
        "language": "en",
        "timezone": "Europe/Amsterdam",
        "country": "NL",
        "department": "",
        "nudge_frequency": "biweekly",
        "default_visibility": "private",
        "in_aggregates": True,
        "welcomed_at": since,
        "created_at": since,
    } | extra
