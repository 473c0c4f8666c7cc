"""Campaign guardrails at the command line and in delivery: authors and their scopes, a launch
that waits for a second person, ``--expect-hash``, the launch explanation, and Teams people
without a conversation (reported at launch, never retried until they die)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.channels.teams.outbound import TeamsSender
from bot.delivery import DeliveryWorker
from storage.models import AuditEntry, CampaignLaunch, Outbound, Person, Role
from storage.outbox import OutboxMessage, enqueue
from tests.bot.conftest import Run, TeamsWorld
from tests.bot.teams_harness import run as run_on_loop

pytestmark = pytest.mark.usefixtures("before_day_0")


def test_an_admin_sets_who_may_launch_to_whom(run: Run, demo: Path) -> None:
    listed = run("campaign", "authors", "list")
    assert "priya.shah@example.com" in listed.stdout and "all" in listed.stdout  # the demo's
    bad = run("campaign", "authors", "set", "priya.shah@example.com", "--scope", "team:x")
    assert bad.returncode == 2 and "department:NAME" in bad.stderr
    employee = run("campaign", "authors", "set", "alex@example.com", "--scope", "all")
    assert employee.returncode == 1 and "campaign authors are hr people" in employee.stderr
    scoped = run(
        "campaign", "authors", "set", "priya.shah@example.com", "--scope", "department:Sales"
    )
    assert scoped.returncode == 0, scoped.stderr
    assert "may launch campaigns to: department:Sales" in scoped.stdout
    # The whole company is now outside her scope: it waits for a second person.
    dry = run("campaign", "launch", str(demo), "--dry-run")
    assert "Needs approval by a second hr or admin person: people outside" in dry.stdout
    removed = run("campaign", "authors", "remove", "priya.shah@example.com")
    assert "no longer a campaign author" in removed.stdout
    assert "priya" not in run("campaign", "authors", "list").stdout


def test_a_large_launch_waits_for_a_second_person_then_launches_what_was_previewed(
    run: Run, demo: Path, engine: Engine
) -> None:
    strict = {"REGIE_CAMPAIGN_APPROVAL_OVER": "10"}
    dry = run("campaign", "launch", str(demo), "--dry-run", extra_env=strict)
    fingerprint = next(
        line.rsplit(" ", 1)[1] for line in dry.stdout.splitlines() if "Fingerprint" in line
    )
    assert "Needs approval by a second hr or admin person: more than 10 people" in dry.stdout
    asked = run(
        "campaign",
        "launch",
        str(demo),
        "--yes",
        "--expect-hash",
        fingerprint[:12],
        extra_env=strict,
    )
    assert asked.returncode == 0, asked.stderr
    assert "Waiting for approval by a second person (launch request 1" in asked.stdout
    assert "No campaign" in run("campaign", "status", "growth-week-2026").stderr
    with Session(engine) as db:
        assert [o.kind for o in db.exec(select(Outbound))] == []  # nobody else is hr or admin
    # Priya cannot approve her own launch.
    own = run("campaign", "approve", "1", "--as", "priya.shah@example.com", "--yes")
    assert own.returncode == 1 and "you asked for this launch yourself" in own.stderr
    # The file changes on disk after it was previewed: launching "that version" is refused.
    demo.write_text(demo.read_text(encoding="utf-8").replace("Growth Week starts today", "Go"))
    changed = run("campaign", "launch", str(demo), "--yes", "--expect-hash", fingerprint)
    assert changed.returncode == 1 and "changed since it was previewed" in changed.stderr
    # A second person approves request 1: the version that was previewed goes out.
    with engine.begin() as connection:
        connection.execute(
            update(Person).where(col(Person.email) == "alex@example.com").values(role=Role.ADMIN)
        )
    approved = run(
        "campaign", "approve", "1", "--as", "alex@example.com", "--yes", "--operator", "ops"
    )
    assert approved.returncode == 0, approved.stderr
    assert "Audience of growth-week-2026: 15 people" in approved.stdout
    assert f"Fingerprint of this version: {fingerprint}" in approved.stdout
    assert "Approved by alex@example.com." in approved.stdout
    assert "Launched growth-week-2026: 0 queued now; the first messages go out Mon 7 Dec 2026" in (
        approved.stdout
    )
    history = run("campaign", "history", "growth-week-2026")
    assert "approved" in history.stdout and "alex@example.com" in history.stdout
    with Session(engine) as db:
        record = db.exec(select(CampaignLaunch)).one()
        assert record.spec_hash == fingerprint and record.state == "approved"
        approval = db.exec(select(AuditEntry).where(AuditEntry.action == "campaign_approved")).one()
        assert approval.detail["operator"] == "ops" and approval.actor_id == record.decided_by_id
    again = run("campaign", "approve", "1", "--as", "alex@example.com", "--yes")
    assert again.returncode == 1 and "already approved" in again.stderr


def test_a_launch_the_day_before_says_when_the_first_messages_go_out(run: Run, demo: Path) -> None:
    launched = run("campaign", "launch", str(demo), "--yes")
    assert launched.returncode == 0, launched.stderr
    assert (
        "Launched growth-week-2026: 0 queued now; the first messages go out "
        "Mon 7 Dec 2026 09:30 CET" in launched.stdout
    )


def test_teams_people_without_a_conversation_are_reported_at_launch(
    run: Run, demo: Path, engine: Engine
) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(Person)
            .where(col(Person.email) == "alex@example.com")
            .values(teams_aad_id="aad-1")
        )
    teams_on = {"MICROSOFT_APP_ID": "app", "MICROSOFT_APP_PASSWORD": "secret"}
    dry = run("campaign", "launch", str(demo), "--dry-run", extra_env=teams_on)
    assert dry.returncode == 0, dry.stderr
    assert (
        "alex@example.com: has not opened Regie in Teams yet (no conversation to write to)"
        in dry.stdout
    )


def _at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def test_a_teams_person_without_a_conversation_waits_and_is_never_retried_to_death(
    teams_world: TeamsWorld,
) -> None:
    world = teams_world
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    with Session(world.engine) as db:
        person = Person(email="new@example.com", name="New Person", teams_aad_id="aad-new")
        db.add(person)
        db.flush()
        assert person.id is not None
        enqueue(db, OutboxMessage("campaign:x:kickoff:1", person.id, "campaign", now, []))
        db.commit()
    for hours in range(0, 24 * 5, 7):  # five days of passes, each after the recheck time
        at = now + timedelta(hours=hours)
        worker = DeliveryWorker(world.engine, [TeamsSender(world.bot)], clock=_at(at))
        report = run_on_loop(world.server.loop, worker.run_once())
        assert report.failed == report.dead == report.sent == 0
    assert world.connector.sent == []  # nothing was even tried in Teams
    with Session(world.engine) as db:
        row = db.exec(select(Outbound)).one()
    assert (row.state, row.channel, row.attempts) == ("pending", "console", 0)


def test_a_bad_approval_limit_stops_with_one_clear_line(run: Run) -> None:
    bad = run("campaign", "list", extra_env={"REGIE_CAMPAIGN_APPROVAL_OVER": "0"})
    assert bad.returncode != 0
    assert "REGIE_CAMPAIGN_APPROVAL_OVER=0: Input should be greater than or equal to 1" in (
        bad.stderr
    )
