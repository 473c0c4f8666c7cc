"""A learning-needs pulse's results: terminal tables, CSV for spreadsheets, and one
self-contained HTML page (``reports/templates/pulse_report.html``) with a chart a question —
the same Jinja2 environment, bars and wording as the campaign report
(``bot/campaign_reports.py``). What may be shown is decided in
``dialogs/campaigns/pulse_report.py``; this module only lays it out."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.campaign_reports import Bar, Wording, percent_of, templates
from dialogs.campaigns.pulse_report import (
    Distribution,
    PulseResults,
    QuestionResult,
    answered_text,
    labels,
    mean_text,
    state_text,
    written_text,
)
from dialogs.campaigns.pulse_spec import TEXT
from dialogs.engine.content import load_content


def wording(results: PulseResults, lang: str) -> Wording:
    return Wording(load_content(), lang)


def _title(results: PulseResults, question: QuestionResult, lang: str) -> str:
    return results.spec.text(question.question.text, lang)


def bars(
    results: PulseResults, question: QuestionResult, group: Distribution, words: Wording
) -> list[Bar]:
    """One bar an answer, out of the group's answers to the question."""
    return [
        Bar(
            label=label,
            figures=words.t(
                "pulse_report.of_answers",
                part=words.number(str(n)),
                whole=words.number(str(group.answers)),
            ),
            percent=percent_of(n, group.answers),
        )
        for label, n in zip(
            labels(results, question.question, words.lang), group.counts, strict=True
        )
    ]


def _mean(group: Distribution, words: Wording) -> str:
    return mean_text(words.content, words.lang, group)


def _written(question: QuestionResult, results: PulseResults, words: Wording) -> str:
    return written_text(words.content, words.lang, results, question)


def render_html(results: PulseResults, lang: str) -> str:
    words = wording(results, lang)
    questions = []
    for q in results.questions:
        item: dict[str, object] = {
            "title": _title(results, q, lang),
            "answers": words.number(q.answers),
            "text": q.question.kind == TEXT,
            "too_few": q.overall is None,
            "written": _written(q, results, words),
            "texts": q.texts,
        }
        if q.overall is not None:
            item["overall"] = bars(results, q, q.overall, words)
            item["mean"] = _mean(q.overall, words)
            item["departments"] = [
                (d.group, _mean(d, words), bars(results, q, d, words)) for d in q.departments
            ]
        questions.append(item)
    template = templates().get_template("pulse_report.html")
    return template.render(
        lang=lang,
        t=words.t,
        title=results.spec.text(results.spec.name, lang),
        state_line=state_text(words.content, lang, results),
        answered=answered_text(words.content, lang, results),
        questions=questions,
        k=results.k,
    )


def _rows(results: PulseResults, words: Wording) -> Iterator[list[str]]:
    """(question, group, answer, count) rows: everyone first, then each department shown."""
    everyone = words.t("pulse_report.all")
    for q in results.questions:
        title = _title(results, q, words.lang)
        if q.overall is None:
            yield [title, everyone, "", q.answers]
            continue
        for group in (q.overall, *q.departments):
            name = group.group or everyone
            for label, n in zip(labels(results, q.question, words.lang), group.counts, strict=True):
                yield [title, name, label, str(n)]
            if group.mean is not None:
                yield [title, name, _mean(group, words), ""]
        for text in q.texts:
            yield [title, "", text, ""]


def write_csv(results: PulseResults, path: Path, lang: str) -> None:
    """One header line, then one row per answer value and group (spreadsheets take the first
    line as the header and every line after it as data)."""
    words = wording(results, lang)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [words.t(f"pulse_report.columns.{c}") for c in ("question", "group", "answer", "count")]
        )
        writer.writerows(_rows(results, words))


def print_report(out: Console, results: PulseResults, lang: str) -> None:
    words = wording(results, lang)
    name = results.spec.text(results.spec.name, lang)
    out.print(f"[bold]{escape(name)}[/] ({results.spec.id})", highlight=False)
    out.print(escape(state_text(words.content, lang, results)), highlight=False)
    out.print(escape(answered_text(words.content, lang, results)), highlight=False)
    if not results.questions:
        return
    table = Table(
        *(words.t(f"pulse_report.columns.{c}") for c in ("question", "group", "answer", "count"))
    )
    shown: tuple[str, str] | None = None
    for question, group, *cells in _rows(results, words):  # each question and group once
        if shown is not None and question != shown[0]:
            table.add_section()
        table.add_row(
            escape(question if shown is None or question != shown[0] else ""),
            escape(group if (question, group) != shown else ""),
            *map(escape, cells),
        )
        shown = (question, group)
    out.print(table)
    for q in results.questions:
        if q.overall is None and q.question.kind == TEXT:
            out.print(f"{escape(_title(results, q, lang))}: {escape(_written(q, results, words))}")
    out.print(escape(words.t("pulse_report.departments_note", count=results.k)), highlight=False)
    out.print(escape(words.t("pulse_report.no_names")), highlight=False)
