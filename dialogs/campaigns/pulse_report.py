"""What HR may see of a learning-needs pulse, under the one ``<K`` rule
(``storage.privacy.MinimumGroup``).

- While the pulse is open: only how many answered. Results that changed with every answer
  would show each new answer by subtraction, so they appear once it has closed.
- Per question: the distribution (and a scale's average) over everyone, when at least K
  answered it; per department, when at least K in it answered, with complementary suppression
  across departments (answers without a department count as a hidden cell), so no hidden
  department can be worked out from the total.
- Free text: only how many wrote (under the ``<K`` rule), unless the pulse file opted in
  (``show_free_text``) and at least K wrote: then the texts, in their random order and never
  with a department.

The words around the figures (answers' labels, averages, the pulse's state) are here too, so
HR's chat (``results_text``) and the terminal, CSV and HTML (``bot/pulse_reports.py``) say the
same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from dialogs.campaigns.pulse_spec import CHOICE, SCALE, TEXT, Pulse, PulseQuestion
from dialogs.campaigns.spec import CampaignSpec, from_stored
from dialogs.engine.content import Content
from storage import campaigns as stored
from storage import pulse as answers
from storage.models import Campaign, PulseClosed
from storage.privacy import MinimumGroup, Reader


@dataclass(frozen=True)
class Distribution:
    """The answers of one group to one question: how many, and how many gave each value."""

    group: str | None
    """A department, or None: everyone."""
    answers: int
    counts: tuple[int, ...]
    mean: float | None = None
    """A scale's average (None for a choice)."""


@dataclass(frozen=True)
class QuestionResult:
    question: PulseQuestion
    answers: str
    """How many answered it, as shown (``<K`` under K)."""
    overall: Distribution | None
    """None: fewer than K answered it."""
    departments: tuple[Distribution, ...] = ()
    texts: tuple[str, ...] = ()
    """Written answers HR may read (only with the file's opt-in and at least K of them)."""


@dataclass(frozen=True)
class PulseResults:
    campaign: Campaign
    spec: CampaignSpec
    pulse: Pulse
    k: int
    people: int
    """The pulse's recipients."""
    answered: str
    """How many answered, as shown."""
    closed_at: datetime | None
    questions: tuple[QuestionResult, ...]
    """Empty while the pulse is open."""


def build(
    db: Session, campaign: Campaign, *, min_group: int, reader: Reader, now: datetime
) -> PulseResults:
    """The pulse's results as HR may see them (the look at the answers is audited)."""
    assert campaign.id is not None
    spec = from_stored(campaign.spec)
    if spec.pulse is None:
        raise ValueError(f"campaign {spec.id!r} has no pulse")
    rule = MinimumGroup.configured(min_group)
    people = len(stored.recipient_ids(db, campaign.id))
    respondents = answers.answered_count(db, campaign.id)
    answered = rule.cell(rule.count(respondents, group=people))
    closed = db.get(PulseClosed, campaign.id)
    if closed is None:  # open: its figures would change with every answer
        return PulseResults(campaign, spec, spec.pulse, rule.k, people, answered, None, ())
    rows = answers.rows(db, campaign.id, reader=reader, now=now)
    results = tuple(
        _question(
            rule,
            respondents,
            spec.pulse,
            q,
            [(r.value, r.department) for r in rows if r.question == q.id],
        )
        for q in spec.pulse.questions
    )
    return PulseResults(
        campaign, spec, spec.pulse, rule.k, people, answered, closed.closed_at, results
    )


def _question(
    rule: MinimumGroup,
    respondents: int,
    pulse: Pulse,
    question: PulseQuestion,
    given: list[tuple[str, str | None]],
) -> QuestionResult:
    total = len(given)
    shown = rule.cell(rule.count(total, group=respondents))  # how many of those who answered
    if question.kind == TEXT:
        texts = tuple(v for v, _ in given) if pulse.show_free_text and total >= rule.k else ()
        return QuestionResult(question, shown, None, texts=texts)
    if not rule.allows_group(total):
        return QuestionResult(question, shown, None)
    departments = sorted({d for _, d in given if d is not None})
    groups: list[str | None] = [*departments, None]
    sizes = [sum(1 for _, d in given if d == g) for g in groups]
    cells = rule.partition(sizes)
    return QuestionResult(
        question,
        shown,
        _distribution(question, None, [v for v, _ in given]),
        tuple(
            _distribution(question, group, [v for v, d in given if d == group])
            for group, cell in zip(groups, cells.counts, strict=True)
            if group is not None and cell is not None and cell > 0
        ),
    )


def _distribution(question: PulseQuestion, group: str | None, values: list[str]) -> Distribution:
    counts = tuple(values.count(v) for v in question.values)
    mean = None
    if question.kind == SCALE and values:
        mean = round(sum(int(v) for v in values) / len(values), 1)
    return Distribution(group, len(values), counts, mean)


# -- in words ------------------------------------------------------------------------------


def labels(results: PulseResults, question: PulseQuestion, lang: str) -> list[str]:
    """What each of a question's answers is called, in the order of ``Distribution.counts``."""
    if question.kind == CHOICE:
        return [results.spec.text(c.label, lang) for c in question.choices]
    return list(question.values)


def mean_text(content: Content, lang: str, group: Distribution) -> str:
    """A scale's average the language's way (3.4 / 3,4); nothing for a choice."""
    if group.mean is None:
        return ""
    mean = f"{group.mean:.1f}"
    return content.text(
        lang, "pulse_report.average", mean=mean.replace(".", ",") if lang == "nl" else mean
    )


def state_text(content: Content, lang: str, results: PulseResults) -> str:
    """Open until when (and why no results yet), or closed on which day."""
    if results.closed_at is None:
        return content.text(
            lang, "pulse_report.state_open", closes=content.date(lang, results.pulse.closes)
        )
    return content.text(
        lang, "pulse_report.state_closed", date=content.date(lang, results.closed_at.date())
    )


def answered_text(content: Content, lang: str, results: PulseResults) -> str:
    return content.text(
        lang,
        "pulse_report.answered",
        answered=content.number(lang, _count(results.answered)),
        people=content.number(lang, results.people),
    )


def written_text(content: Content, lang: str, results: PulseResults, q: QuestionResult) -> str:
    """How many wrote an answer to a free-text question (``<K`` under K)."""
    if not q.answers.isdigit():
        return content.text(lang, "pulse_report.written_few", count=results.k)
    return content.text(lang, "pulse_report.written", count=int(q.answers))


def results_text(content: Content, lang: str, results: PulseResults) -> str:
    """The results in chat: the same figures as the report, a few lines a question."""
    name = results.spec.text(results.spec.name, lang)
    lines = [
        content.text(lang, "pulse_report.chat_heading", name=name),
        state_text(content, lang, results),
        answered_text(content, lang, results),
    ]
    for n, q in enumerate(results.questions, start=1):
        lines += ["", f"{n}. {results.spec.text(q.question.text, lang)}"]
        if q.question.kind == TEXT:
            lines.append(written_text(content, lang, results, q))
            lines += [content.text(lang, "pulse.quoted", value=text) for text in q.texts]
            continue
        if q.overall is None:
            lines.append(content.text(lang, "pulse_report.too_few", count=results.k))
            continue
        everyone = content.text(lang, "pulse_report.all")
        for group in (q.overall, *q.departments):
            lines.append(_group_line(content, lang, results, q, group, everyone))
    if results.questions:
        lines += ["", content.text(lang, "pulse_report.departments_note", count=results.k)]
        lines.append(content.text(lang, "pulse_report.no_names"))
    return "\n".join(lines)


def _group_line(
    content: Content,
    lang: str,
    results: PulseResults,
    q: QuestionResult,
    group: Distribution,
    everyone: str,
) -> str:
    """One group's answers on one line: "• Sales (6) · Average 3.4 of 5: 1: 0 · 2: 1 · …"."""
    counts = " · ".join(
        f"{label}: {content.number(lang, n)}"
        for label, n in zip(labels(results, q.question, lang), group.counts, strict=True)
    )
    mean = mean_text(content, lang, group)
    head = f"{group.group or everyone} ({content.number(lang, group.answers)})"
    return f"• {head}{f' · {mean}' if mean else ''}: {counts}"


def _count(shown: str) -> int | str:
    return int(shown) if shown.isdigit() else shown
