"""Honest campaign reports, on both databases: workshop bars out of each workshop's places
("1 of 24 places", not a full bar because it is the busiest), every figure by a friendly name
with its definition in the report's language (the terminal, the CSV, the HTML page), the `<K`
rule unchanged, and the page's language its author's unless asked otherwise.

The terminal and CSV texts are golden files (``tests/bot/golden/reports/``; ``UPDATE_GOLDEN=1``
rewrites them — review the diff)."""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.campaign_reports import (
    FUNNEL,
    STEP_FIGURES,
    STEP_TABLE,
    WORKSHOP_FIGURES,
    print_report,
    render_html,
    workshop_bars,
    write_csv,
)
from dialogs.campaigns.report import CampaignReport, build
from dialogs.campaigns.spec import parse
from dialogs.engine.content import LANGUAGES
from dialogs.engine.metrics import metric
from storage.models import Campaign, Person, Role
from storage.workshop_places import sign_up
from tests.bot.conftest import Run
from tests.dialogs.conftest import add_person
from tests.dialogs.test_campaigns import CONTENT, LAUNCH, deliver, launch_spec, tick

GOLDEN = Path(__file__).parent / "golden" / "reports"
LONG_TITLE = (
    "Samen sterker: hoe je met een loopbaangesprek, een netwerkkaart en drie kleine experimenten "
    "je volgende stap vindt (and why it is worth an afternoon)"
)
SPEC = f"""\
id: growth-week
name: {{en: Growth week, nl: Groeiweek}}
owner: hr@example.com
start: 2026-12-07
default_language: en
workshops:
  - id: career
    title: {{en: "{LONG_TITLE}", nl: "{LONG_TITLE}"}}
    starts: "2026-12-08T14:00+01:00"
    minutes: 90
    capacity: 24
  - id: small
    title: {{en: "Small circle", nl: "Kleine kring"}}
    starts: "2026-12-09T14:00+01:00"
    minutes: 60
    capacity: 5
  - id: open
    title: {{en: "Open doors"}}
    starts: "2026-12-10T14:00+01:00"
    minutes: 60
steps:
  - id: kickoff
    day: 0
    time: "09:30"
    message: {{en: "Hi {{first_name}}, it's growth week!", nl: "Het is groeiweek!"}}
    actions: [interested, not_for_me]
  - id: lineup
    day: 0
    time: "11:00"
    message: {{en: "The workshops", nl: "De workshops"}}
    rsvp: [career, small, open]
"""
AFTER = LAUNCH.replace(hour=12)


def campaign_world(engine: Engine, *, owner_language: str = "en") -> Campaign:
    """29 people and their HR owner; the first two steps sent; 1 of 24 places taken at the
    career workshop, the small one full (5) with 2 waiting, 6 at the open one."""
    add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR, language=owner_language)
    ids = [add_person(engine, f"p{i:02}@example.com", name=f"Person{i:02} X") for i in range(29)]
    spec = parse(SPEC)
    campaign = launch_spec(engine, spec)
    tick(engine, LAUNCH)
    deliver(engine, AFTER)
    assert campaign.id is not None
    with Session(engine) as db:
        for n, person in enumerate(ids[:14]):
            workshop, capacity = (
                ("career", 24) if n == 0 else ("small", 5) if n < 8 else ("open", None)
            )
            sign_up(db, campaign.id, workshop, person, capacity=capacity, now=AFTER)
        db.commit()
    return campaign


def report_of(
    engine: Engine, *, reader: str | None = None, lang: str | None = None
) -> CampaignReport:
    with Session(engine) as db:
        campaign = db.exec(select(Campaign)).one()
        person = db.exec(select(Person).where(Person.email == reader)).one() if reader else None
        return build(db, campaign, min_group=5, now=AFTER, reader=person, lang=lang)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def printed(report: CampaignReport) -> str:
    out = Console(record=True, width=110, color_system=None)
    print_report(out, report)
    return out.export_text()


def csv_text(report: CampaignReport, tmp_path: Path) -> str:
    path = tmp_path / f"{report.lang}.csv"
    write_csv(report, path)
    return path.read_text(encoding="utf-8")


def test_bars_are_out_of_each_workshops_places_not_the_busiest(engine: Engine) -> None:
    campaign_world(engine)
    owner = report_of(engine, reader="hr@example.com")
    career, small, open_ = workshop_bars(owner)
    assert (career.figures, career.percent) == ("1 of 24 places taken", 4.2)
    assert (small.figures, small.percent) == ("5 of 5 places taken · 2 on the waitlist", 100.0)
    assert (open_.figures, open_.percent) == ("6 signed up, no limit on places", None)
    assert career.label == LONG_TITLE

    # HR who does not own it: the same <K cells as ever, and no bar for a hidden count.
    hr = report_of(engine)
    career, small, open_ = workshop_bars(hr)
    assert (career.figures, career.percent) == ("<5 of 24 places taken", None)
    assert (small.figures, small.percent) == ("5 of 5 places taken · <5 on the waitlist", 100.0)
    assert (open_.figures, open_.percent) == ("6 signed up, no limit on places", None)
    assert (hr.shown(hr.going("career")), hr.shown(hr.waiting("small"))) == ("<5", "<5")


def test_the_terminal_and_csv_reports_match_their_golden_files(
    engine: Engine, tmp_path: Path
) -> None:
    campaign_world(engine)
    golden("campaign_en.txt", printed(report_of(engine)))
    golden("campaign_en.csv", csv_text(report_of(engine), tmp_path))
    golden("campaign_nl.csv", csv_text(report_of(engine, lang="nl"), tmp_path))


def test_every_csv_row_names_its_figure_and_says_what_it_means(
    engine: Engine, tmp_path: Path
) -> None:
    campaign_world(engine)
    rows = list(csv.reader(io.StringIO(csv_text(report_of(engine), tmp_path))))
    assert rows[0] == ["Part", "Item", "Figure", "Value", "What it means", "Key"]
    assert all(len(row) == 6 for row in rows)
    for part, _, figure, _, definition, key in rows[1:]:
        assert figure == metric(CONTENT, "en", "campaign", key).name and figure != key
        assert definition and part
    values = {(r[1], r[5]): r[3] for r in rows}
    assert values[("", "targeted")] == "30" and values[("", "responded")] == "0"
    assert values[(LONG_TITLE, "going")] == "<5" and values[(LONG_TITLE, "places")] == "24"
    assert values[("Small circle", "waitlist")] == "<5"
    dutch = list(csv.reader(io.StringIO(csv_text(report_of(engine, lang="nl"), tmp_path))))
    assert dutch[0] == ["Onderdeel", "Wat", "Cijfer", "Waarde", "Betekenis", "Sleutel"]
    # The key is the same in every language.
    assert [r[5] for r in dutch[1:]] == [r[5] for r in rows[1:]]


def test_the_page_is_in_its_authors_language_with_a_legend_and_definitions(
    engine: Engine,
) -> None:
    campaign_world(engine, owner_language="nl")
    dutch = render_html(report_of(engine))
    assert '<html lang="nl">' in dutch
    assert "<title>Groeiweek: campagnerapport</title>" in dutch
    assert "1 van 24 plaatsen bezet" not in dutch and "&lt;5 van 24 plaatsen bezet" in dutch
    assert "Plaats bezet" in dutch and "Plaats vrij" in dutch  # the legend
    assert "Wat de cijfers betekenen" in dutch
    # A workshop with no Dutch title keeps its English one, marked as English.
    assert '<span class="bar-label" lang="en">Open doors</span>' in dutch
    for key in (*FUNNEL, *STEP_FIGURES, *WORKSHOP_FIGURES):
        named = metric(CONTENT, "nl", "campaign", key)
        assert f"<dt>{named.name}</dt><dd>{named.definition}</dd>" in dutch.replace("'", "&#39;")

    english = render_html(report_of(engine, lang="en"))
    assert (
        '<html lang="en">' in english and "<title>Growth week: campaign report</title>" in english
    )
    # Self-contained: nothing fetched from anywhere, no script.
    assert not re.search(r"<script|\bsrc=|\bhref=|url\(|@import", english)


def test_text_from_the_campaign_file_is_escaped(engine: Engine) -> None:
    hostile = SPEC.replace(
        '{en: "Small circle", nl: "Kleine kring"}', '"<img src=x onerror=alert(1)>"'
    )
    add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR)
    launch_spec(engine, parse(hostile))
    page = render_html(report_of(engine))
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_both_reports_name_and_define_every_figure_in_both_languages(engine: Engine) -> None:
    for lang in LANGUAGES:
        for key in (*FUNNEL, *STEP_FIGURES, *STEP_TABLE, *WORKSHOP_FIGURES):
            named = metric(CONTENT, lang, "campaign", key)
            assert named.name and named.definition.endswith(".") and named.name != key


def test_the_report_command_writes_the_page_and_csv_in_the_language_asked(
    run: Run, engine: Engine, tmp_path: Path
) -> None:
    campaign_world(engine)
    shown = run(
        "campaign", "report", "growth-week", "--lang", "nl", "--html", "r.html", "--csv", "r.csv"
    )
    assert shown.returncode == 0, shown.stderr
    assert "Wat de cijfers betekenen" in shown.stdout and "Berichten per stap" in shown.stdout
    assert '<html lang="nl">' in (tmp_path / "r.html").read_text(encoding="utf-8")
    assert (tmp_path / "r.csv").read_text(encoding="utf-8").startswith("Onderdeel,Wat,Cijfer")
    wrong = run("campaign", "report", "growth-week", "--lang", "fr")
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == "--lang fr: expected one of en, nl."
    assert not (tmp_path / "fr").exists()


def test_a_report_well_after_the_last_step_says_finished(engine: Engine) -> None:
    campaign_world(engine)
    with Session(engine) as db:
        campaign = db.exec(select(Campaign)).one()
        later = build(db, campaign, min_group=5, now=AFTER + timedelta(days=30))
    assert later.state == "finished"
    assert "State: finished." in render_html(later)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_html_shows_the_same_cells_as_the_terminal(engine: Engine, lang: str) -> None:
    campaign_world(engine)
    report = report_of(engine, lang=lang)
    page = render_html(report)
    terminal = printed(report)
    for bar in workshop_bars(report):
        assert bar.figures.replace("<", "&lt;") in page and bar.figures in terminal
