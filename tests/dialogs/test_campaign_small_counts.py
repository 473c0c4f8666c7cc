"""Counts of people's own choices — a nudge pause, opting out of campaigns — are counts of
people: HR never sees "1 paused" or "1 opted out", in the launch preview (terminal and chat),
the chat's status or the report, and the delivery figures next to them cannot give them away
by subtraction."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.campaign_reports import print_report, render_html, write_csv
from dialogs.campaigns.launch import plan_launch
from dialogs.campaigns.report import build, status_text
from dialogs.campaigns.spec import parse
from storage.models import Campaign, Person, Role
from tests.dialogs.conftest import add_person
from tests.dialogs.test_campaigns import CONTENT, LAUNCH, WEEK, deliver, launch_spec, people, tick


@pytest.fixture
def hr(engine: Engine) -> int:
    return add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR)


def test_a_paused_person_and_one_who_opted_out_are_never_counted_exactly(
    engine: Engine, hr: int, tmp_path
) -> None:
    ids = people(engine, 11)
    with Session(engine) as db:
        out, paused = db.get(Person, ids[0]), db.get(Person, ids[1])
        assert out and paused
        out.campaigns_opt_out = True
        paused.nudge_paused_until = date(2026, 12, 31)
        db.add_all([out, paused])
        db.commit()
    spec = parse(WEEK)
    with Session(engine) as db:
        plan = plan_launch(db, spec, now=LAUNCH)
    assert (plan.opted_out, plan.paused, plan.reaching) == (1, 1, 11)  # hr is in it too
    assert plan.choices(5) == ("<5", "<5")
    launch_spec(engine, spec)
    tick(engine, LAUNCH)
    deliver(engine, LAUNCH.replace(hour=9))
    with Session(engine) as db:
        campaign = db.exec(select(Campaign)).one()
        report = build(db, campaign, min_group=5, now=LAUNCH.replace(hour=9))
    kickoff = report.figures.steps["kickoff"]
    assert (kickoff.sent, kickoff.skipped, kickoff.declined) == (10, 1, 1)

    status = status_text(CONTENT, "en", report)
    assert "skipped: ×" in status and "skipped: 1" not in status
    out_ = Console(record=True, width=200)
    print_report(out_, report)
    printed = out_.export_text()
    kickoff_row = next(line for line in printed.splitlines() if "kickoff" in line)
    assert [cell.strip() for cell in kickoff_row.split("│")[3:8]] == ["0", "0", "×", "0", "×"]
    assert "paused nudges" in printed and "     1  paused nudges" not in printed
    html = render_html(report)
    assert "1 × paused nudges" not in html and "× × paused nudges" in html
    write_csv(report, tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8") as handle:
        cells = {(row[1], row[5]): row[3] for row in csv.reader(handle)}
    assert cells[("kickoff", "skipped")] == "×" and cells[("kickoff", "sent")] == "×"
