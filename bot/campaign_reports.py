"""A campaign's report: terminal tables, CSV for spreadsheets, and one self-contained HTML
page with two charts (the response funnel, and sign-ups per workshop) drawn as inline SVG — no
scripts, no external files, so it can be mailed or put on an intranet as it is. And where its
messages stand while they go out, for ``regie campaign status`` to follow."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import case, func, select
from sqlmodel import Session, col

from dialogs.campaigns.report import CampaignReport
from storage.models import Outbound, OutboxState
from storage.workshop_places import Attendee

BAR_HEIGHT = 26
CHART_WIDTH = 560
LABEL_WIDTH = 220


SMALL_COUNTS = (
    "Counts of people under {k} show as <{k}, so nobody can be singled out; × hides a count "
    "that would let a <{k} be worked out from the others."
)


def _step_cells(report: CampaignReport, step_id: str) -> tuple[str, str, str, str]:
    """(waiting, sent, failed, skipped) of one step as HR may see them (waiting: queued and
    held together, hidden when either is)."""
    cells = report.figures.step_cells(step_id)
    queued, held = cells.counts[0], cells.counts[1]
    waiting = cells.marker if queued is None or held is None else str(queued + held)
    return waiting, cells.shown(2), cells.shown(3), cells.shown(4)


def funnel(report: CampaignReport) -> list[tuple[str, int, str]]:
    """(label, value for the bar, shown text): targeted -> reached -> responded -> experiments.
    A suppressed count (<K) draws no bar."""
    f = report.figures
    rows = [
        ("People targeted", f.targeted, str(f.targeted)),
        ("Reached (a message sent)", f.reached, str(f.reached)),
        ("Responded (pressed a button)", f.responded, f.cell(f.responded)),
        ("Started an experiment from it", f.experiments, f.cell(f.experiments)),
    ]
    return [(label, value if shown.isdigit() else 0, shown) for label, value, shown in rows]


def _bars(rows: list[tuple[str, list[tuple[int, str, str]]]], title: str) -> str:
    """A horizontal bar chart: each row a label and stacked (value, colour, text) parts."""
    biggest = max([sum(v for v, _, _ in parts) for _, parts in rows] + [1])
    scale = (CHART_WIDTH - LABEL_WIDTH - 60) / biggest
    height = BAR_HEIGHT * len(rows) + 10
    parts_svg: list[str] = []
    for n, (label, parts) in enumerate(rows):
        y = n * BAR_HEIGHT + 5
        parts_svg.append(f'<text x="0" y="{y + 17}" class="label">{escape(label)}</text>')
        x = float(LABEL_WIDTH)
        texts: list[str] = []
        for value, colour, text in parts:
            width = value * scale
            parts_svg.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT - 6}" '
                f'fill="{colour}"><title>{escape(label)}: {escape(text)}</title></rect>'
            )
            x += width
            texts.append(text)
        parts_svg.append(
            f'<text x="{x + 6:.1f}" y="{y + 17}" class="value">{escape(" + ".join(texts))}</text>'
        )
    return (
        f'<svg role="img" aria-label="{escape(title)}" width="{CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {CHART_WIDTH} {height}">{"".join(parts_svg)}</svg>'
    )


def _part(report: CampaignReport, people: int, colour: str, what: str) -> tuple[int, str, str]:
    """A bar segment of sign-ups: no bar for a count this reader may not see exactly."""
    shown = report.shown(people)
    return (people if shown.isdigit() else 0, colour, f"{shown} {what}")


def render_html(report: CampaignReport, names: dict[str, list[Attendee]] | None = None) -> str:
    spec = report.spec
    f = report.figures
    lang = spec.default_language
    title = spec.text(spec.name, lang)
    funnel_chart = _bars(
        [(label, [(value, "#3b7dd8", shown)]) for label, value, shown in funnel(report)],
        "Response funnel",
    )
    workshops = [
        (
            spec.text(w.title, lang),
            [
                _part(report, report.going(w.id), "#2a9d5c", "going"),
                _part(report, report.waiting(w.id), "#e0a030", "waitlist"),
            ],
        )
        for w in spec.workshops
    ]
    rsvp_chart = _bars(workshops, "Sign-ups per workshop") if workshops else ""
    step_rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{escape(str(cell))}</td>"
            for cell in (
                step.id,
                step.day,
                *_step_cells(report, step.id),
                f.cell(s.responded) if step.answerable else "",
            )
        )
        + "</tr>"
        for step in spec.steps
        if (s := f.steps.get(step.id)) is not None
    )
    failures = "".join(
        f"<li>{n} × {escape(reason)}</li>" for reason, n in f.failure_reasons.most_common()
    )
    skips = "".join(f"<li>{n} × {escape(reason)}</li>" for reason, n in f.skip_reason_cells())
    named = ""
    if names:
        lists = []
        for w in spec.workshops:
            people = "".join(
                f"<li>{escape(a.name)}{' (waitlist)' if a.state != 'going' else ''}</li>"
                for a in names.get(w.id, [])
            )
            lists.append(f"<h3>{escape(spec.text(w.title, lang))}</h3><ol>{people}</ol>")
        named = (
            "<section><h2>Who signed up (for the campaign owner only)</h2>"
            + "".join(lists)
            + "</section>"
        )
    return f"""<!doctype html>
<html lang="{escape(lang)}"><head><meta charset="utf-8">
<title>{escape(title)}: campaign report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; color: #222; }}
h1 {{ font-size: 1.6rem; }} table {{ border-collapse: collapse; }}
td, th {{ border-bottom: 1px solid #ddd; padding: .3rem .7rem; text-align: right; }}
td:first-child, th:first-child {{ text-align: left; }}
svg .label {{ font-size: 13px; fill: #333; }} svg .value {{ font-size: 13px; fill: #555; }}
.note {{ color: #666; font-size: .9rem; }}
</style></head><body>
<h1>{escape(title)}</h1>
<p>State: <strong>{escape(report.state)}</strong>. Launched
{report.campaign.launched_at:%Y-%m-%d}, version {report.campaign.version}.</p>
<section><h2>Response funnel</h2>{funnel_chart}</section>
{f"<section><h2>Sign-ups per workshop</h2>{rsvp_chart}</section>" if rsvp_chart else ""}
<section><h2>Messages per step</h2><table>
<tr><th>step</th><th>day</th><th>waiting</th><th>sent</th><th>failed</th><th>skipped</th>
<th>responded</th></tr>{step_rows}</table>
{f"<h3>Failed, by reason</h3><ul>{failures}</ul>" if failures else ""}
{f"<h3>Skipped, by reason</h3><ul>{skips}</ul>" if skips else ""}</section>
{named}
<p class="note">{escape(SMALL_COUNTS.format(k=f.k))}
People who do not allow aggregates are not counted in responses. No answer anyone wrote appears
in this report.</p>
</body></html>
"""


def write_csv(
    report: CampaignReport, path: Path, names: dict[str, list[Attendee]] | None = None
) -> None:
    f = report.figures
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["section", "item", "measure", "value"])
        for label, _, shown in funnel(report):
            writer.writerow(["funnel", "", label, shown])
        for step in report.spec.steps:
            s = f.steps.get(step.id)
            if s is None:
                continue
            waiting, sent, failed, skipped = _step_cells(report, step.id)
            for measure, value in (
                ("waiting", waiting),
                ("sent", sent),
                ("failed", failed),
                ("skipped", skipped),
                ("responded", f.cell(s.responded) if step.answerable else ""),
            ):
                writer.writerow(["step", step.id, measure, value])
        for w in report.spec.workshops:
            writer.writerow(["workshop", w.id, "going", report.shown(report.going(w.id))])
            writer.writerow(["workshop", w.id, "waitlist", report.shown(report.waiting(w.id))])
            writer.writerow(["workshop", w.id, "capacity", w.capacity or ""])
        for reason, n in f.failure_reasons.most_common():
            writer.writerow(["failed", "", reason, n])
        for reason, shown in f.skip_reason_cells():
            writer.writerow(["skipped", "", reason, shown])
        for workshop, people in (names or {}).items():
            for a in people:
                writer.writerow(["sign-up", workshop, a.state, f"{a.name} <{a.email}>"])


def print_report(out: Console, report: CampaignReport) -> None:
    """The figures as terminal tables (what `status` and `report` print)."""
    f = report.figures
    spec = report.spec
    lang = spec.default_language
    out.print(
        f"[bold]{spec.text(spec.name, lang)}[/] ({spec.id}): {report.state}. "
        f"Targeted {f.targeted}, reached {f.reached}, responded {f.cell(f.responded)}, "
        f"experiments started {f.cell(f.experiments)}."
    )
    table = Table(title="Messages per step")
    for column in ("step", "day", "queued", "held", "sent", "failed", "skipped", "responded"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for step in spec.steps:
        s = f.steps.get(step.id)
        if s is None:
            continue
        cells = f.step_cells(step.id)
        table.add_row(
            step.id,
            str(step.day),
            *(cells.shown(n) for n in range(len(cells))),
            f.cell(s.responded) if step.answerable else "",
        )
    out.print(table)
    if f.failure_reasons:
        out.print("Failed, by reason:")
        for reason, n in f.failure_reasons.most_common():
            out.print(f"  {n:>6}  {reason}")
    if f.skip_reasons:
        out.print("Skipped, by reason:")
        for reason, shown in f.skip_reason_cells():
            out.print(f"  {shown:>6}  {reason}")
    if spec.workshops:
        workshops = Table(title="Workshop sign-ups")
        for column in ("workshop", "going", "places", "waitlist"):
            workshops.add_column(column, justify="left" if column == "workshop" else "right")
        for w in spec.workshops:
            workshops.add_row(
                spec.text(w.title, lang),
                report.shown(report.going(w.id)),
                str(w.capacity or "∞"),
                report.shown(report.waiting(w.id)),
            )
        out.print(workshops)
    out.print(SMALL_COUNTS.format(k=f.k))


def print_sign_ups(out: Console, report: CampaignReport, names: dict[str, list[Attendee]]) -> None:
    """Who signed up for which workshop, by name: for the campaign's owner only."""
    for w in report.spec.workshops:
        out.print(f"[bold]{report.spec.text(w.title, report.spec.default_language)}[/]")
        for attendee in names.get(w.id, []):
            mark = "" if attendee.state == "going" else "  (waitlist)"
            out.print(f"  {attendee.name} <{attendee.email}>{mark}")


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
