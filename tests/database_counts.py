"""A pytest plugin: how many test cases ran on each database, and a failed run when
PostgreSQL was configured (``REGIE_TEST_POSTGRES_URL``) yet its cases were skipped for want of
a server, or fewer ran on it than on SQLite — a suite that silently stops testing the
production database proves nothing about it."""

from __future__ import annotations

import os
from collections import Counter

import pytest

DATABASES = ("sqlite", "postgresql")


def _database_of(nodeid: str) -> str | None:
    params = nodeid.rpartition("[")[2].rstrip("]").split("-") if nodeid.endswith("]") else []
    return next((name for name in DATABASES if name in params), None)


NO_POSTGRES = "PostgreSQL not configured"
"""The start of the skip reason of a PostgreSQL case without a server (tests/conftest.py)."""


def _skipped_for_want_of_postgres(report: pytest.TestReport) -> bool:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return NO_POSTGRES in reason


def _counts(config: pytest.Config) -> dict[str, Counter[str]]:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    counts: dict[str, Counter[str]] = {name: Counter() for name in DATABASES}
    if reporter is None:
        return counts
    for outcome in ("passed", "failed", "skipped", "error"):
        for report in reporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            when = getattr(report, "when", "call")
            database = _database_of(nodeid)
            if database is None or (outcome == "passed" and when != "call"):
                continue
            counts[database][outcome] += 1
            if outcome == "skipped" and _skipped_for_want_of_postgres(report):
                counts[database]["skipped: no server"] += 1
    return counts


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not os.environ.get("REGIE_TEST_POSTGRES_URL") or exitstatus not in (0, 1):
        return
    selected = not (session.config.option.keyword or session.config.option.markexpr)
    if selected and _short_of_postgres(_counts(session.config)) and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _short_of_postgres(counts: dict[str, Counter[str]]) -> bool:
    """PostgreSQL cases skipped for want of a server, or fewer run than on SQLite."""
    ran = {name: counts[name]["passed"] + counts[name]["failed"] for name in DATABASES}
    return bool(counts["postgresql"]["skipped: no server"]) or ran["postgresql"] < ran["sqlite"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = _counts(terminalreporter.config)
    if not any(counts.values()):
        return
    terminalreporter.section("cases per database")
    for name in DATABASES:
        figures = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts[name].items()))
        terminalreporter.write_line(f"{name}: {figures or 'none'}")
    config = terminalreporter.config
    selected = not (config.option.keyword or config.option.markexpr)
    if os.environ.get("REGIE_TEST_POSTGRES_URL") and selected and _short_of_postgres(counts):
        terminalreporter.write_line(
            "FAILED: REGIE_TEST_POSTGRES_URL is set, yet fewer cases ran on PostgreSQL",
            red=True,
        )
