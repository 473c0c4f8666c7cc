"""A learning-needs pulse's results for HR (both databases): nothing while it is open but how
many answered; after closing, distributions only for groups of at least K, with complementary
suppression across departments; free text only as a count unless opted in and K wrote; the look
is audited; table, CSV and HTML show the same."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.pulse_reports import print_report, render_html, write_csv
from dialogs.campaigns.launch import launch, plan_launch
from dialogs.campaigns.pulse_report import PulseResults, build
from dialogs.campaigns.spec import parse
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import load_content
from storage import pulse as stored
from storage.models import AuditEntry, Campaign, Person, Role
from storage.privacy import Reader
from tests.dialogs.conftest import NOW, add_person
from tests.dialogs.test_pulse import PULSE

CLOSED = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ADMIN = Reader.administrator("ops")


def setup(engine: Engine, *, show_free_text: bool = False) -> int:
    add_person(engine, "hr@example.com", role=Role.HR)
    for n in range(6):
        add_person(engine, f"sales{n}@example.com", department="Sales")
    for n in range(5):
        add_person(engine, f"ops{n}@example.com", department="Ops")
    text = PULSE.replace("  closes: 2026-11-27\n", "  closes: 2026-11-27\n  show_free_text: true\n")
    with Session(engine) as db:
        owner = db.exec(select(Person).where(Person.email == "hr@example.com")).one()
        spec = parse(text if show_free_text else PULSE)
        campaign = launch(
            db,
            load_content(),
            plan_launch(db, spec, now=NOW),
            owner=owner,
            now=NOW,
            policy=NudgePolicy(),
        )
        db.commit()
        assert campaign.id is not None
        return campaign.id


def answer(engine: Engine, campaign_id: int, email: str, **answers: str) -> None:
    with Session(engine) as db:
        person = db.exec(select(Person).where(Person.email == email)).one()
        assert stored.save(db, campaign_id, "invite", person, answers, min_group=5, now=NOW)
        db.commit()


def results(engine: Engine, campaign_id: int, now: datetime = CLOSED) -> PulseResults:
    with Session(engine, expire_on_commit=False) as db:
        campaign = db.get(Campaign, campaign_id)
        assert campaign is not None
        built = build(db, campaign, min_group=5, reader=ADMIN, now=now)
        db.commit()
        return built


def close(engine: Engine, campaign_id: int) -> None:
    with Session(engine) as db:
        stored.close(db, campaign_id, now=CLOSED)
        db.commit()


def test_results_only_after_closing_and_only_for_groups_of_k(engine: Engine, tmp_path: Path):
    campaign_id = setup(engine)
    for n in range(6):
        answer(engine, campaign_id, f"sales{n}@example.com", room=str(1 + n % 5), topic="digital")
    answer(engine, campaign_id, "ops0@example.com", room="1")
    open_results = results(engine, campaign_id, now=NOW)
    assert open_results.questions == () and open_results.answered == "7"
    close(engine, campaign_id)
    closed = results(engine, campaign_id)
    room, topic, wish = closed.questions
    assert room.overall is not None and room.overall.answers == 7
    assert room.overall.counts == (3, 1, 1, 1, 1)
    # Sales has 6 answers, Ops 1: Ops is hidden, and so is Sales, or Ops = total - Sales
    assert room.departments == ()
    assert topic.overall is not None and topic.overall.counts == (0, 6)
    assert topic.answers == "6" and topic.departments[0].group == "Sales"  # Ops gave none
    assert wish.answers == "0" and wish.texts == ()
    with Session(engine) as db:
        audited = db.exec(select(AuditEntry).where(AuditEntry.action == "pulse_report")).all()
        assert [a.detail for a in audited] == [{"operator": "ops", "campaign_id": campaign_id}]


@pytest.mark.parametrize("opted_in", [False, True])
def test_free_text_is_a_count_unless_opted_in_and_k_wrote(engine: Engine, opted_in: bool) -> None:
    campaign_id = setup(engine, show_free_text=opted_in)
    for n in range(4):
        answer(engine, campaign_id, f"ops{n}@example.com", wish=f"MARKER-{n}")
    answer(engine, campaign_id, "sales0@example.com", wish="MARKER-4")
    close(engine, campaign_id)
    wish = results(engine, campaign_id).questions[2]
    assert wish.answers == "5"
    assert sorted(wish.texts) == ([f"MARKER-{n}" for n in range(5)] if opted_in else [])
    html = render_html(results(engine, campaign_id), "en")
    assert ("MARKER-0" in html) is opted_in and "Ops" not in html  # never with a department
    assert "5 people wrote something." in html


def test_table_csv_and_html_in_both_languages(engine: Engine, tmp_path: Path) -> None:
    campaign_id = setup(engine)
    for n in range(5):
        answer(engine, campaign_id, f"ops{n}@example.com", room="4", topic="craft", wish="x")
    answer(engine, campaign_id, "sales0@example.com", room="2", wish="MARKER-ONE")
    close(engine, campaign_id)
    built = results(engine, campaign_id)
    for lang, everyone, average in (
        ("en", "Everyone", "Average 3.7 of 5"),
        ("nl", "Iedereen", "Gemiddeld 3,7 van 5"),
    ):
        page = render_html(built, lang)
        assert f'<html lang="{lang}">' in page and average in page and "MARKER" not in page
        assert "<script" not in page
        path = tmp_path / f"pulse-{lang}.csv"
        write_csv(built, path, lang)
        rows = list(csv.reader(path.open(encoding="utf-8")))
        assert len(rows[0]) == 4 and [everyone, "4", "5"] == [rows[4][1], rows[4][2], rows[4][3]]
        out = Console(record=True, width=160)
        print_report(out, built, lang)
        printed = out.export_text()
        assert everyone in printed and "MARKER" not in printed
        room = "Room to learn?" if lang == "en" else "Ruimte om te leren?"
        assert printed.count(room) == 1  # each question once, above its rows
        assert printed.count(everyone) == 3  # once a question


def test_the_demo_has_a_closed_pulse_with_results_over_k(engine: Engine) -> None:
    from bot.demo import PULSE_ID, load_demo
    from storage.campaigns import by_slug
    from storage.models import PulseCopy

    for _ in range(2):  # added once
        with Session(engine) as db:
            load_demo(db, now=CLOSED)
            db.commit()
    with Session(engine) as db:
        campaign = by_slug(db, PULSE_ID)
        assert campaign is not None and campaign.id is not None
        assert db.exec(select(PulseCopy)).all() == []  # closed: nothing links anyone
    built = results(engine, campaign.id)
    assert built.closed_at is not None and built.answered == "12"
    room, topic, wish = built.questions
    assert room.overall is not None and topic.overall is not None
    assert {d.group for d in topic.departments} == {"Customer Service", "Finance"}
    assert wish.answers == "<5" and wish.texts == ()
    assert "Customer Service" in render_html(built, "nl")
