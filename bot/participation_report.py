"""HR's participation report at the command line: each figure by its friendly name, then what
each one means; and the same as CSV for a spreadsheet (one figure a row, its definition beside
it, one header line — see ``bot.campaign_reports.write_csv`` for why)."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from dialogs.engine.content import Content
from dialogs.engine.metrics import Metric, metrics
from storage.reports import Participation, Row


def _named(content: Content, lang: str, report: Participation) -> dict[str, Metric]:
    found = metrics(content, lang, "participation", [row.metric for row in report.rows])
    return {m.key: m for m in found}


def _label(named: dict[str, Metric], row: Row) -> str:
    name = named[row.metric].name
    return f"{name} ({row.period})" if row.period else name


def participation_lines(
    content: Content,
    lang: str,
    report: Participation,
    *,
    start: date,
    end: date,
    department: str | None = None,
) -> list[str]:
    """What ``regie report participation`` prints."""
    named = _named(content, lang, report)
    heading = content.text(
        lang, "report.period_heading", start=content.date(lang, start), end=content.date(lang, end)
    )
    lines = [heading + (f", {department}" if department else "")]
    lines += [f"  {_label(named, row):<44} {report.cell(row)}" for row in report.rows]
    lines += ["", content.text(lang, "metrics.heading") + ":"]
    lines += [f"  {m.name}: {m.definition}" for m in named.values()]
    lines.append(content.text(lang, "campaign_report.small_counts", k=report.k))
    return lines


def write_participation_csv(content: Content, lang: str, report: Participation, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(csv_rows(content, lang, report))


def csv_rows(content: Content, lang: str, report: Participation) -> Iterator[list[str]]:
    """The CSV's rows, header first (also the web page's download)."""
    named = _named(content, lang, report)
    columns = ("figure", "period", "people", "definition", "key")
    yield [content.text(lang, f"metrics.columns.{c}") for c in columns]
    for row in report.rows:
        m = named[row.metric]
        yield [m.name, row.period, report.cell(row), m.definition, m.key]
