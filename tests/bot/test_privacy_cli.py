"""Reads at the command line are an administrator's, and people see them as such: ``export``,
``digest --print``, ``report participation`` and ``campaign report --as`` are audited with the
operator's name (``--operator``, else the operating system user), never as the manager or the
campaign owner they were run for. Campaign counts of people's choices stay under the ``<K``
rule, and ``forget`` leaves nothing in SQLite's write-ahead log."""

from __future__ import annotations

import getpass
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import update
from sqlmodel import Session, col, select

from storage.db import make_engine
from storage.models import AuditEntry, Campaign, Person
from storage.privacy import readings, reads_by
from storage.workshop_places import sign_up
from tests.bot.conftest import Run

ROOT = Path(__file__).resolve().parents[2]
BEFORE_DAY_0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(BEFORE_DAY_0, tick=True):
        yield


@pytest.fixture
def demo(run: Run) -> None:
    assert run("init").returncode == 0
    assert run("demo").returncode == 0


def person_id(db: Session, email: str) -> int:
    found = db.exec(select(Person).where(Person.email == email)).one()
    assert found.id is not None
    return found.id


def test_export_and_digest_print_are_an_administrators_reads(
    run: Run, db_url: str, demo: None
) -> None:
    exported = run("export", "--person", "daan.devries@example.com", "--operator", "alice")
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert {"outbound", "campaign_response", "campaign_rsvp", "campaign_recipient"} <= set(data)
    printed = run("digest", "--manager", "marieke.jansen@example.com", "--print")
    assert printed.returncode == 0, printed.stderr
    assert "Marieke" in printed.stdout
    engine = make_engine(db_url)
    with Session(engine) as db:
        daan = person_id(db, "daan.devries@example.com")
        seen = readings(db, daan)
        marieke = person_id(db, "marieke.jansen@example.com")
        assert not db.exec(select(AuditEntry).where(AuditEntry.actor_id == marieke)).all()
    engine.dispose()
    assert [(r.what, r.operator, r.reader) for r in seen] == [
        ("digest", getpass.getuser(), None),  # the operator printed her digest, not Marieke
        ("export", "alice", None),
    ]
    assert all(r.by_administrator and not r.by_someone_gone for r in seen)


def test_participation_report_names_the_operator(run: Run, db_url: str, demo: None) -> None:
    shown = run("report", "participation", "--operator", "bob")
    assert shown.returncode == 0, shown.stderr
    engine = make_engine(db_url)
    with Session(engine) as db:
        [entry] = db.exec(select(AuditEntry).where(AuditEntry.action == "hr_report")).all()
    engine.dispose()
    assert entry.detail["operator"] == "bob" and entry.subject_id is None


def test_campaign_sign_ups_read_at_the_command_line_are_the_operators(
    run: Run, db_url: str, demo: None, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "campaigns", tmp_path / "campaigns")
    launched = run("campaign", "launch", str(tmp_path / "campaigns" / "growth-week.yaml"), "--yes")
    assert launched.returncode == 0, launched.stderr
    engine = make_engine(db_url)
    with Session(engine) as db:
        # (the demo has a closed learning pulse of its own)
        campaign = db.exec(select(Campaign).where(Campaign.slug == "growth-week-2026")).one()
        assert campaign.id is not None
        alex = person_id(db, "alex@example.com")
        sign_up(db, campaign.id, "energy", alex, capacity=20, now=BEFORE_DAY_0)
        db.commit()
    report = run(
        "campaign",
        "report",
        "growth-week-2026",
        "--as",
        "priya.shah@example.com",
        "--operator",
        "carol",
    )
    assert report.returncode == 0, report.stderr
    assert "Alex Morgan" in report.stdout
    with Session(engine) as db:
        [seen] = readings(db, alex)
        priya = person_id(db, "priya.shah@example.com")
        assert not reads_by(db, priya)  # the operator's read, not the owner's
        [launched] = db.exec(select(AuditEntry).where(AuditEntry.actor_id == priya)).all()
        assert launched.action == "campaign_launched"  # an action of hers, on no one's data
    engine.dispose()
    assert (seen.what, seen.operator, seen.reader) == ("sign_ups", "carol", None)


def test_small_counts_of_peoples_choices_in_the_launch_preview(
    run: Run, db_url: str, demo: None, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "campaigns", tmp_path / "campaigns")
    engine = make_engine(db_url)
    with Session(engine) as db:
        db.exec(
            update(Person)
            .where(col(Person.email) == "alex@example.com")
            .values(nudge_paused_until=date(2026, 12, 31))
        )
        db.exec(
            update(Person)
            .where(col(Person.email) == "tom.visser@example.com")
            .values(campaigns_opt_out=True)
        )
        db.commit()
    engine.dispose()
    dry = run("campaign", "launch", str(tmp_path / "campaigns" / "growth-week.yaml"), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "Audience of growth-week-2026: 14 people" in dry.stdout  # opt-outs not in it
    assert "<5 opted out of campaigns" in dry.stdout and "<5 paused their nudges" in dry.stdout
    assert "1 opted out" not in dry.stdout and "1 paused" not in dry.stdout


def test_forget_names_the_operator_and_leaves_no_write_ahead_log(
    run: Run, db_url: str, demo: None
) -> None:
    done = run("forget", "--person", "alex@example.com", "--yes", "--operator", "dave")
    assert done.returncode == 0, done.stderr
    engine = make_engine(db_url)
    with Session(engine) as db:
        [entry] = db.exec(select(AuditEntry).where(AuditEntry.action == "person_deleted")).all()
    engine.dispose()
    assert entry.detail == {"by": "admin", "operator": "dave"}
    if db_url.startswith("sqlite"):
        wal = Path(db_url.removeprefix("sqlite:///") + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0
        assert b"alex@example.com" not in Path(db_url.removeprefix("sqlite:///")).read_bytes()
