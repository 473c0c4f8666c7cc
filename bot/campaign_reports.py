"""A campaign's report: terminal tables, CSV for spreadsheets, and one self-contained HTML
page (``reports/templates/campaign_report.html``, Jinja2) — no scripts, no external files, so it
can be mailed or put on an intranet as it is. Every figure is named and defined once, in content
(``dialogs.engine.metrics``), in the report's language. And where its messages stand while they
go out, for ``regie campaign status`` to follow."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from dialogs.campaigns.care import NOTICE, REMINDER
from dialogs.campaigns.report import CampaignReport
from dialogs.campaigns.timing import TOO_LATE
from dialogs.engine.content import Content, load_content
from dialogs.engine.metrics import Metric, metric, metrics
from storage.campaign_figures import NO_THANKS, NOT_NOW, StepFigures
from storage.campaigns import STOPPED
from storage.models import Outbound, OutboxState, RsvpState
from storage.workshop_places import Attendee

TEMPLATES = Path(__file__).parent / "reports" / "templates"
FUNNEL = ("targeted", "reached", "responded", "experiments")
STEP_FIGURES = ("waiting", "sent", "failed", "skipped", "step_responded")
"""A step's figures in the page and the CSV (waiting: queued and held together)."""
STEP_TABLE = ("queued", "held", "sent", "failed", "skipped", "step_responded")
"""A step's figures in the terminal, for following a campaign closely."""
SET_ASIDE_FIGURES = (("step_not_now", NOT_NOW), ("step_no_thanks", NO_THANKS))
"""A step's "not now" and "no thanks" presses: figures of their own (never responses), shown
when one of the campaign's steps offers the button."""
WORKSHOP_FIGURES = ("going", "places", "waitlist")
CARE_ROWS = ((REMINDER, "reminders"), (NOTICE, "notices"))
"""Attendee care counted per workshop (``reminder-<workshop>``): named as what it is."""
SKIP_REASONS = {STOPPED: "not_for_me", TOO_LATE: "too_late"}
"""Skip reasons that are figures of their own, named and defined in content."""


@dataclass(frozen=True)
class Bar:
    """One row of a chart: what it is, its figures in words, and how full its bar is — out of
    the row's own whole (everyone targeted, or the workshop's places), never out of the busiest
    row. No bar (``None``) for a count shown as ``<K`` or a workshop without a limit."""

    label: str
    figures: str
    percent: float | None
    label_lang: str | None = None
    """The label's language when it is not the page's (a campaign text without a translation)."""


@dataclass(frozen=True)
class Wording:
    """The report's texts in its language."""

    content: Content
    lang: str

    def t(self, key: str, count: int | None = None, **values: object) -> str:
        return self.content.text(self.lang, key, count=count, **values)

    def number(self, shown: str) -> str:
        """A shown count the language's way (1,000 / 1.000); ``<K`` and ``×`` as they are."""
        return self.content.number(self.lang, int(shown)) if shown.isdigit() else shown

    def state(self, state: str) -> str:
        """A campaign's state (running, paused, cancelled, finished) in words."""
        if state == "finished":
            return self.t("campaign_report.finished")
        return self.t(f"campaigns.hr.states.{state}")

    def metric(self, key: str) -> Metric:
        return metric(self.content, self.lang, "campaign", key)

    def reason(self, reason: str) -> str:
        """A skip reason by its name in content when it has one, else as recorded."""
        key = SKIP_REASONS.get(reason)
        return self.metric(key).name if key else reason


def wording(report: CampaignReport) -> Wording:
    return Wording(load_content(), report.lang)


def percent_of(part: int, whole: int) -> float:
    """How full a bar is: ``part`` out of its own ``whole`` (never more than full)."""
    return round(100 * min(part, whole) / whole, 1) if whole > 0 else 0.0


def _step_cells(report: CampaignReport, step_id: str) -> tuple[str, str, str, str]:
    """(waiting, sent, failed, skipped) of one step as HR may see them (waiting: queued and
    held together, hidden when either is)."""
    cells = report.figures.step_cells(step_id)
    queued, held = cells.counts[0], cells.counts[1]
    waiting = cells.marker if queued is None or held is None else str(queued + held)
    return waiting, cells.shown(2), cells.shown(3), cells.shown(4)


def _set_aside(report: CampaignReport) -> list[tuple[str, str]]:
    """(figure key, button) of the ``SET_ASIDE_FIGURES`` the campaign's steps offer."""
    offered = {action for step in report.spec.steps for action in step.actions}
    return [(key, action) for key, action in SET_ASIDE_FIGURES if action in offered]


def step_figures(report: CampaignReport, figures: tuple[str, ...]) -> tuple[str, ...]:
    """A step's figures (``STEP_FIGURES`` or ``STEP_TABLE``), then "not now" and "no thanks"
    when the campaign offers them."""
    return (*figures, *(key for key, _ in _set_aside(report)))


def _answer_cells(report: CampaignReport, step_id: str, s: StepFigures) -> list[str]:
    """Who responded to the step, then who said "not now" and "no thanks" (counts of
    people, under the ``<K`` rule; empty where the step has no such button)."""
    f = report.figures
    step = report.spec.step(step_id)
    if step is None:  # a workshop's reminders and notices: nothing to answer
        return ["" for _ in range(1 + len(_set_aside(report)))]
    pressed = {NOT_NOW: s.not_now, NO_THANKS: s.no_thanks}
    return [
        f.cell(s.responded) if step.answerable else "",
        *(f.cell(pressed[a]) if a in step.actions else "" for _, a in _set_aside(report)),
    ]


def step_rows(report: CampaignReport) -> Iterator[tuple[str, int | str, list[str]]]:
    """(step id, day, its ``step_figures`` as shown) for every step with figures, then the
    reminders and notices of each workshop (named "Reminders: <workshop>", no day)."""
    f = report.figures
    for step in report.spec.steps:
        s = f.steps.get(step.id)
        if s is not None:
            answers = _answer_cells(report, step.id, s)
            yield step.id, step.day, [*_step_cells(report, step.id), *answers]
    for label, step_id in _care_rows(report):
        cells = _answer_cells(report, step_id, f.steps[step_id])
        yield label, "", [*_step_cells(report, step_id), *cells]


def _care_rows(report: CampaignReport) -> Iterator[tuple[str, str]]:
    """(label, ``campaign_step``) of each workshop's reminders and notices that have figures."""
    words = wording(report)
    for workshop in report.spec.workshops:
        for prefix, key in CARE_ROWS:
            if prefix + workshop.id in report.figures.steps:
                title = report.spec.text(workshop.title, report.lang)
                yield f"{words.metric(key).name}: {title}", prefix + workshop.id


def _keys(report: CampaignReport, figures: tuple[str, ...]) -> list[str]:
    """The figures whose definitions the report lists: ``figures``, the workshops' and the
    attendee care's when the campaign has them, and the skip reasons that are figures."""
    f = report.figures
    keys = [*FUNNEL, *figures]
    if report.spec.workshops:
        keys += WORKSHOP_FIGURES
    steps = f.steps
    keys += [key for prefix, key in CARE_ROWS if any(s.startswith(prefix) for s in steps)]
    keys += [key for reason, key in SKIP_REASONS.items() if reason in f.skip_reasons]
    return keys


def funnel(report: CampaignReport) -> list[tuple[Metric, str, Bar]]:
    """targeted -> reached -> responded -> experiments: each figure as shown, and its bar out of
    everyone targeted. A suppressed count (<K) draws no bar."""
    f = report.figures
    words = wording(report)
    values = {
        "targeted": (f.targeted, str(f.targeted)),
        "reached": (f.reached, str(f.reached)),
        "responded": (f.responded, f.cell(f.responded)),
        "experiments": (f.experiments, f.cell(f.experiments)),
    }
    rows = []
    for key in FUNNEL:
        value, shown = values[key]
        if key == "targeted":
            figures = words.t("campaign_report.people", count=f.targeted)
        else:
            figures = words.t(
                "campaign_report.of_people", count=f.targeted, part=words.number(shown)
            )
        percent = percent_of(value, f.targeted) if shown.isdigit() else None
        named = words.metric(key)
        rows.append((named, shown, Bar(named.name, figures, percent)))
    return rows


def workshop_bars(report: CampaignReport) -> list[Bar]:
    """Sign-ups per workshop, each bar out of the workshop's own places: "3 of 24 places"."""
    spec = report.spec
    words = wording(report)
    bars = []
    for w in spec.workshops:
        going_count = report.going(w.id)
        going, waiting = report.shown(going_count), report.shown(report.waiting(w.id))
        if w.capacity:
            figures = words.t(
                "campaign_report.of_places", count=w.capacity, going=words.number(going)
            )
            percent = percent_of(going_count, w.capacity) if going.isdigit() else None
        else:
            figures = words.t("campaign_report.no_limit", going=words.number(going))
            percent = None
        if waiting != "0":
            figures += " · " + words.t("campaign_report.on_waitlist", waiting=words.number(waiting))
        title = spec.text(w.title, report.lang)
        fell_back = report.lang not in w.title
        bars.append(Bar(title, figures, percent, spec.default_language if fell_back else None))
    return bars


def templates() -> Environment:
    """The report pages' Jinja2 environment (``reports/templates``; ``_charts.html`` holds the
    chart and the look every page shares)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(report: CampaignReport, names: dict[str, list[Attendee]] | None = None) -> str:
    """The page, in the report's language (``lang`` on ``<html>``). Charts are CSS bars in a
    layout that wraps rather than overlaps (a long title takes its own lines), readable from a
    375 px phone to a wide screen."""
    spec = report.spec
    f = report.figures
    words = wording(report)
    lang = report.lang
    template = templates().get_template("campaign_report.html")
    return template.render(
        lang=lang,
        t=words.t,
        title=spec.text(spec.name, lang),
        state_line=words.t(
            "campaign_report.state",
            state=words.state(report.state),
            date=words.content.date(lang, report.campaign.launched_at.date()),
            version=report.campaign.version,
        ),
        funnel=[bar for _, _, bar in funnel(report)],
        workshops=workshop_bars(report),
        step_columns=[words.metric(key) for key in step_figures(report, STEP_FIGURES)],
        steps=[(step, day, cells) for step, day, cells in step_rows(report)],
        failures=[(words.number(str(n)), reason) for reason, n in f.failure_reasons.most_common()],
        skips=[(words.number(shown), words.reason(r)) for r, shown in f.skip_reason_cells()],
        named=[(spec.text(w.title, lang), names.get(w.id, [])) for w in spec.workshops if names],
        going=RsvpState.GOING,
        definitions=metrics(
            words.content, lang, "campaign", _keys(report, step_figures(report, STEP_FIGURES))
        ),
        k=f.k,
    )


def write_csv(
    report: CampaignReport, path: Path, names: dict[str, list[Attendee]] | None = None
) -> None:
    """One figure a row, each row saying what it is and what it means (Part, Item, Figure,
    Value, What it means, Key). One header line only: spreadsheets (an Excel table, a filter,
    a pivot table, Google Sheets, pandas) take the first line as the header and every line after
    it as data, so a second header line or a row of definitions would be summed, sorted and
    filtered as if it were figures. The key stays the same in every language, for formulas."""
    f = report.figures
    words = wording(report)
    spec = report.spec
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                words.t(f"metrics.columns.{column}")
                for column in ("part", "item", "figure", "value", "definition", "key")
            ]
        )

        def row(part: str, item: str, key: str, value: object) -> None:
            named = words.metric(key)
            writer.writerow([part, item, named.name, value, named.definition, key])

        part = words.t("campaign_report.funnel")
        for named, shown, _ in funnel(report):
            row(part, "", named.key, shown)
        part = words.t("campaign_report.steps")
        for step_id, _, cells in step_rows(report):
            for key, value in zip(step_figures(report, STEP_FIGURES), cells, strict=True):
                row(part, step_id, key, value)
        part = words.t("campaign_report.workshops")
        for w in spec.workshops:
            title = spec.text(w.title, report.lang)
            row(part, title, "going", report.shown(report.going(w.id)))
            row(part, title, "places", w.capacity or "")
            row(part, title, "waitlist", report.shown(report.waiting(w.id)))
        part = words.t("campaign_report.failed_by_reason")
        for reason, n in f.failure_reasons.most_common():
            row(part, reason, "failed", n)
        part = words.t("campaign_report.skipped_by_reason")
        for reason, shown in f.skip_reason_cells():
            row(part, words.reason(reason), "skipped", shown)
        part = words.t("campaign_report.by_name")
        titles = {w.id: spec.text(w.title, report.lang) for w in spec.workshops}
        for workshop, people in (names or {}).items():
            for a in people:
                key = "going" if a.state == RsvpState.GOING else "waitlist"
                row(part, titles.get(workshop, workshop), key, f"{a.name} <{a.email}>")


def print_report(out: Console, report: CampaignReport) -> None:
    """The figures as terminal tables (what `status` and `report` print), then what each
    figure means."""
    f = report.figures
    spec = report.spec
    words = wording(report)
    lang = report.lang
    out.print(
        f"[bold]{escape(spec.text(spec.name, lang))}[/] ({spec.id}): {words.state(report.state)}.",
        highlight=False,
    )
    out.print(
        " · ".join(f"{named.name} {words.number(shown)}" for named, shown, _ in funnel(report)),
        highlight=False,
    )
    table = Table(title=words.t("campaign_report.steps"))
    table.add_column(words.t("campaign_report.step"))
    table.add_column(words.t("campaign_report.day"), justify="right")
    columns = step_figures(report, STEP_TABLE)
    for key in columns:
        table.add_column(words.metric(key).name, justify="right")
    for step in spec.steps:
        s = f.steps.get(step.id)
        if s is None:
            continue
        cells = f.step_cells(step.id)
        table.add_row(
            step.id,
            str(step.day),
            *(cells.shown(n) for n in range(len(cells))),
            *_answer_cells(report, step.id, s),
        )
    for label, step_id in _care_rows(report):
        cells = f.step_cells(step_id)
        answers = _answer_cells(report, step_id, f.steps[step_id])
        table.add_row(escape(label), "", *(cells.shown(n) for n in range(len(cells))), *answers)
    out.print(table)
    if f.failure_reasons:
        out.print(words.t("campaign_report.failed_by_reason") + ":")
        for reason, n in f.failure_reasons.most_common():
            out.print(escape(f"  {n:>6}  {reason}"), highlight=False)
    if f.skip_reasons:
        out.print(words.t("campaign_report.skipped_by_reason") + ":")
        for reason, shown in f.skip_reason_cells():
            out.print(escape(f"  {shown:>6}  {words.reason(reason)}"), highlight=False)
    if spec.workshops:
        workshops = Table(title=words.t("campaign_report.workshops"))
        workshops.add_column(words.t("metrics.columns.item"))
        workshops.add_column(words.t("metrics.columns.figure"))
        for bar in workshop_bars(report):
            workshops.add_row(escape(bar.label), escape(bar.figures))
        out.print(workshops)
    keys = _keys(report, columns)
    meaning = Table.grid(padding=(0, 2))
    meaning.add_column(style="bold", no_wrap=True)
    meaning.add_column()
    for named in metrics(words.content, lang, "campaign", keys):
        meaning.add_row(named.name, named.definition)
    out.print(words.t("metrics.heading") + ":")
    out.print(meaning, highlight=False)
    out.print(words.t("campaign_report.small_counts", k=f.k), highlight=False)


def print_sign_ups(out: Console, report: CampaignReport, names: dict[str, list[Attendee]]) -> None:
    """Who signed up for which workshop, by name: for the campaign's owner only."""
    words = wording(report)
    mark = words.t("campaign_report.waitlist_mark")
    for w in report.spec.workshops:
        out.print(f"[bold]{escape(report.spec.text(w.title, report.lang))}[/]")
        for attendee in names.get(w.id, []):
            waiting = "" if attendee.state == RsvpState.GOING else f"  ({mark})"
            out.print(escape(f"  {attendee.name} <{attendee.email}>{waiting}"), highlight=False)


# -- following delivery --------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """A campaign's messages by where they stand (skipped ones left out): what
    ``regie campaign status`` follows while they go out."""

    sent: int = 0
    to_send: int = 0
    """Due, or being sent: the delivery worker's work right now."""
    retrying: int = 0
    """Failed for a passing reason; the worker tries them again from ``retry_at``."""
    retry_at: datetime | None = None
    dead: int = 0
    """Failed for good: only ``regie outbox retry-dead`` sends them again."""
    held: int = 0
    """The campaign is paused: only ``regie campaign resume`` sends them."""
    in_console: int = 0
    """For people no chat platform reaches: shown when they open ``regie chat``."""
    later: int = 0
    """Not due yet (later steps)."""
    next_at: datetime | None = None

    @property
    def due(self) -> int:
        """Messages whose time has come (and every held one): the bar's total."""
        return self.sent + self.to_send + self.retrying + self.dead + self.held + self.in_console

    @property
    def handled(self) -> tuple[int, ...]:
        """What only the delivery worker changes: when this stands still, it is not running."""
        return (self.sent, self.dead, self.retrying, self.in_console)

    @property
    def going(self) -> bool:
        """Whether the delivery worker still has any of them to send, now or after a retry.
        When not, nothing more goes out until someone acts (or a later step's time comes)."""
        return self.to_send + self.retrying > 0


def delivery(db: Session, campaign_id: int, *, now: datetime) -> Delivery:
    """Where the campaign's messages stand at ``now``: one grouped query, cheap every second."""
    later = col(Outbound.not_before) > now
    rows = db.connection().execute(
        select(
            col(Outbound.state),
            col(Outbound.channel),
            func.count(),
            func.count(case((later, 1))),
            func.min(case((later, col(Outbound.not_before)))),
        )
        .where(col(Outbound.campaign_id) == campaign_id)
        .where(col(Outbound.state) != OutboxState.SKIPPED)
        .group_by(col(Outbound.state), col(Outbound.channel))
    )
    counts = {"sent": 0, "to_send": 0, "retrying": 0, "dead": 0, "held": 0, "in_console": 0}
    not_yet = 0
    retry_at: datetime | None = None
    next_at: datetime | None = None
    for state, channel, n, n_later, first_later in rows:
        if state == OutboxState.SENT:
            counts["sent"] += n
        elif state == OutboxState.DEAD:
            counts["dead"] += n
        elif state == OutboxState.HELD:
            counts["held"] += n
        elif state == OutboxState.PENDING and channel == "console":
            counts["in_console"] += n  # left for `regie chat`; looked at again now and then
        elif state == OutboxState.FAILED:
            counts["to_send"] += n - n_later
            counts["retrying"] += n_later
            retry_at = _earliest(retry_at, first_later)
        else:  # pending or sending
            counts["to_send"] += n - n_later
            not_yet += n_later
            next_at = _earliest(next_at, first_later)
    return Delivery(**counts, retry_at=retry_at, later=not_yet, next_at=next_at)


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def waiting_for(current: Delivery, *, quiet_for: float, stalled_after: float) -> str:
    """The progress bar's label: what the watch is waiting for."""
    if current.to_send:
        if quiet_for >= stalled_after:
            return (
                f"waiting: {current.to_send} due, none handled for {quiet_for:.0f} s; "
                "is regie serve running? (regie run-due sends once)"
            )
        return "sending"
    return f"{current.retrying} to try again from {_utc(current.retry_at)}"


def not_sent_lines(current: Delivery, slug: str) -> list[str]:
    """Why the watch ended: every message whose time has come is sent, or cannot be sent
    until someone acts; and when the next ones are due."""
    lines = [f"Nothing more to send now: {current.sent} of {current.due} due message(s) sent."]
    if current.dead:
        lines.append(
            f"  {current.dead} failed for good: regie outbox status says why, "
            "regie outbox retry-dead sends them again."
        )
    if current.held:
        lines.append(
            f"  {current.held} held while the campaign is paused: "
            f"regie campaign resume {slug} sends them."
        )
    if current.in_console:
        lines.append(
            f"  {current.in_console} left for people Regie cannot reach in Slack or Teams: "
            "they see them in regie chat."
        )
    if current.later:
        lines.append(f"  {current.later} more to come, the next from {_utc(current.next_at)}.")
    return lines


def _utc(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment is not None else "later"
