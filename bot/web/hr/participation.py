"""Participation (hr): the participation report (``storage.reports.participation``, the figures
of ``regie report participation``) for everyone or one department over a chosen period, its
monthly figures as a chart, each figure's definition, a CSV download
(``bot.participation_report.csv_rows``); and the results of every learning-needs pulse
(``dialogs.campaigns.pulse_report.build``). Counts of people only, ``<K`` everywhere; no written
answer is ever shown here, not even a pulse's opted-in free text (only how many wrote)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from aiohttp import web
from sqlmodel import Session, col, select

from bot.campaign_reports import Bar
from bot.participation_report import csv_rows
from bot.pulse_reports import bars, wording
from bot.web import context
from bot.web.hr.access import hr_page, me, render, session
from dialogs.campaigns.pulse_report import PulseResults, answered_text, state_text
from dialogs.campaigns.pulse_report import build as pulse_results
from dialogs.campaigns.pulse_spec import CHOICE, SCALE
from dialogs.campaigns.spec import from_stored
from dialogs.engine.metrics import Metric, metrics
from storage.models import Campaign, Person
from storage.privacy import Reader
from storage.reports import Participation, participation

OVER_TIME = ("reflected", "checked_in")
"""The figures counted per month: drawn as a chart."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    department: str
    refused: bool


@dataclass(frozen=True)
class FigureRow:
    name: str
    period: str
    shown: str


@dataclass(frozen=True)
class Series:
    metric: Metric
    bars: list[Bar]


@dataclass(frozen=True)
class PulseView:
    title: str
    state: str
    answered: str
    questions: list[tuple[str, str, list[Bar], list[tuple[str, list[Bar]]]]]
    """(question, how many answered it, its bars over everyone, per department)."""


def period_of(request: web.Request) -> Period:
    today = context.now(request).date()
    refused = False

    def day(name: str, fallback: date) -> date:
        nonlocal refused
        raw = request.query.get(name, "").strip()
        try:
            return date.fromisoformat(raw) if raw else fallback
        except ValueError:
            refused = True
            return fallback

    end = day("to", today)
    start = day("from", end.replace(month=1, day=1))
    if start > end:
        start, refused = end.replace(month=1, day=1), True
    department = request.query.get("department", "").strip()[:200]
    return Period(start, end, department, refused)


def _departments(db: Session) -> list[str]:
    found = db.exec(select(Person.department).where(Person.department != "").distinct())
    return sorted(found)


def _series(report: Participation, named: dict[str, Metric], people: int) -> list[Series]:
    found = []
    for key in OVER_TIME:
        rows = [r for r in report.rows if r.metric == key]
        chart = []
        for row in rows:
            shown = report.cell(row)
            percent = round(100 * (row.people or 0) / people, 1) if row.people and people else None
            chart.append(Bar(row.period, shown, percent if shown.isdigit() else None))
        if key in named:
            found.append(Series(named[key], chart))
    return found


def _pulse(results: PulseResults, lang: str) -> PulseView:
    words = wording(results, lang)
    questions: list[tuple[str, str, list[Bar], list[tuple[str, list[Bar]]]]] = []
    for q in results.questions:
        title = results.spec.text(q.question.text, lang)
        if q.question.kind not in (SCALE, CHOICE) or q.overall is None:
            questions.append((title, words.number(q.answers), [], []))
            continue
        departments = [(d.group or "", bars(results, q, d, words)) for d in q.departments]
        questions.append(
            (title, words.number(q.answers), bars(results, q, q.overall, words), departments)
        )
    return PulseView(
        title=results.spec.text(results.spec.name, lang),
        state=state_text(words.content, lang, results),
        answered=answered_text(words.content, lang, results),
        questions=questions,
    )


def _pulses(
    db: Session, reader: Person, *, min_group: int, request: web.Request
) -> list[PulseView]:
    lang = context.language(request)
    campaigns = db.exec(select(Campaign).order_by(col(Campaign.launched_at).desc()))
    return [
        _pulse(
            pulse_results(
                db, c, min_group=min_group, reader=Reader.of(reader), now=context.now(request)
            ),
            lang,
        )
        for c in campaigns
        if from_stored(c.spec).pulse is not None
    ]


def _report(db: Session, request: web.Request, period: Period, reader: Person) -> Participation:
    return participation(
        db,
        start=period.start,
        end=period.end,
        min_group=context.settings(request).min_group_size,
        department=period.department or None,
        reader_id=reader.id,
    )


@hr_page
async def page(request: web.Request) -> web.StreamResponse:
    reader = me(request)
    period = period_of(request)
    lang = context.language(request)
    content = context.content(request)
    min_group = context.settings(request).min_group_size

    def work() -> tuple[Participation, list[str], list[PulseView]]:
        with session(request) as db:
            report = _report(db, request, period, reader)
            found = (
                report,
                _departments(db),
                _pulses(db, reader, min_group=min_group, request=request),
            )
            db.commit()  # the audit entries of the looks
            return found

    report, departments, pulses = await context.in_thread(work)
    named = {
        m.key: m for m in metrics(content, lang, "participation", [r.metric for r in report.rows])
    }
    people_row = next((r for r in report.rows if r.metric == "people"), None)
    people = people_row.people or 0 if people_row else 0
    rows = [
        FigureRow(named[r.metric].name, r.period, report.cell(r))
        for r in report.rows
        if r.metric not in OVER_TIME
    ]
    return render(
        request,
        "hr/participation.html",
        {
            "section": "participation",
            "period": period,
            "departments": departments,
            "rows": rows,
            "series": _series(report, named, people),
            "definitions": list(named.values()),
            "k": report.k,
            "pulses": pulses,
            "query": request.query_string,
        },
    )


@hr_page
async def download(request: web.Request) -> web.StreamResponse:
    reader = me(request)
    period = period_of(request)
    lang = context.language(request)

    def work() -> Participation:
        with session(request) as db:
            report = _report(db, request, period, reader)
            db.commit()
            return report

    report = await context.in_thread(work)
    out = io.StringIO()
    csv.writer(out).writerows(csv_rows(context.content(request), lang, report))
    name = f"participation-{period.start.isoformat()}-{period.end.isoformat()}.csv"
    return web.Response(
        text=out.getvalue(),
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
