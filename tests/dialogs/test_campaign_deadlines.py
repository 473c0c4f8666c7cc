"""A message about a workshop never reaches anyone after the workshop starts — also when it
was held up on its way: a worker that was down, a console wait, a paused campaign resumed
late, or a workshop that moved. HR's chat says beforehand who, per time zone, would get one too
late."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.campaign_reports import print_report
from bot.channels.slack.client import web_client
from bot.channels.slack.outbound import SlackSender
from bot.delivery import DeliveryWorker, console_inbox
from dialogs.campaigns.launch import launch, pause, plan_launch, resume
from dialogs.campaigns.report import build
from dialogs.campaigns.spec import parse
from dialogs.campaigns.timing import TOO_LATE
from dialogs.engine.replies import Offer
from dialogs.engine.turn import Turn
from storage.models import Campaign, Outbound, OutboxState, Person, Role
from tests.bot.conftest import slack_settings
from tests.bot.slack_fake import FakeSlack
from tests.dialogs.conftest import add_person
from tests.dialogs.test_campaign_guardrails import author, runtime, texts
from tests.dialogs.test_campaigns import CONTENT, LAUNCH, POLICY, WEEK, launch_spec, rows

STARTED = datetime(2026, 12, 8, 13, 0, tzinfo=UTC)
"""WEEK's workshop "energy": Tuesday 8 December, 14:00 in Amsterdam."""


def hr(engine: Engine) -> int:
    return add_person(engine, "hr@example.com", name="Hanna Hr", role=Role.HR)


def test_an_invitation_held_up_until_its_workshop_started_is_skipped_not_sent(
    engine: Engine,
) -> None:
    hr(engine)
    add_person(engine, "kim@example.com", name="Kim K", slack_user_id="U1")
    campaign = launch_spec(engine, parse(WEEK))
    lineup = rows(engine, "lineup")
    assert lineup and all(r.not_after == STARTED for r in lineup)
    assert all(r.not_after is None for r in rows(engine, "kickoff"))
    later = STARTED + timedelta(minutes=30)  # the worker was down all Monday
    with FakeSlack() as fake:
        sender = SlackSender(web_client(slack_settings(fake)), CONTENT, engine)
        worker = DeliveryWorker(engine, [sender], clock=lambda: later)
        report = asyncio.run(worker.run_until_idle())
        posted = [call["text"] for call in fake.calls_to("chat.postMessage")]
    assert len(posted) == 1 and "it's growth week" in posted[0]  # the kickoff only
    assert report.skipped == 1
    kim = [r for r in rows(engine, "lineup") if r.channel is None]
    assert [(r.state, r.last_error) for r in kim] == [(OutboxState.SKIPPED, TOO_LATE)]
    # Hanna reaches only the console: when she opens it, the kickoff shows, the invitation not.
    with Session(engine) as db:
        hanna = db.exec(select(Person).where(Person.email == "hr@example.com")).one()
        assert hanna.id is not None
        shown = console_inbox(db, hanna.id, now=later, content=CONTENT)
        db.commit()
    assert [r.text.split("\n")[0] for r in shown if isinstance(r, Offer)] == [
        "Hi Hanna, it's growth week!"
    ]
    assert {(r.state, r.last_error) for r in rows(engine, "lineup")} == {
        (OutboxState.SKIPPED, TOO_LATE)
    }
    with Session(engine) as db:
        found = db.get(Campaign, campaign.id)
        assert found is not None
        report = build(db, found, min_group=5, now=later, lang="nl")
    assert report.figures.skip_reasons[TOO_LATE] == 2
    out = Console(record=True, width=200)
    print_report(out, report)
    printed = out.export_text()
    assert "Workshop al begonnen" in printed and TOO_LATE not in printed  # named, in Dutch


def test_an_invitation_in_time_is_sent_as_usual(engine: Engine) -> None:
    hr(engine)
    add_person(engine, "kim@example.com", name="Kim K", slack_user_id="U1")
    launch_spec(engine, parse(WEEK))
    in_time = STARTED - timedelta(minutes=1)
    with FakeSlack() as fake:
        sender = SlackSender(web_client(slack_settings(fake)), CONTENT, engine)
        asyncio.run(DeliveryWorker(engine, [sender], clock=lambda: in_time).run_until_idle())
        assert len(fake.calls_to("chat.postMessage")) == 2
    sent = [r for r in rows(engine, "lineup") if r.channel == "slack"]
    assert [r.state for r in sent] == [OutboxState.SENT]


def test_resuming_late_moves_an_invitation_earlier_when_its_step_allows(engine: Engine) -> None:
    hr(engine)
    spec = parse(
        WEEK.replace("    rsvp: [energy]\n", "    rsvp: [energy]\n    too_late: earlier\n")
    )
    campaign = launch_spec(engine, spec)
    with Session(engine) as db:
        found = db.get(Campaign, campaign.id)
        assert found is not None
        assert pause(db, found, now=LAUNCH) == 2
        db.commit()
    back = datetime(2026, 12, 8, 10, 30, tzinfo=UTC)  # 11:30 in Amsterdam, 14:00 the workshop
    with Session(engine) as db:
        found = db.get(Campaign, campaign.id)
        assert found is not None
        assert resume(db, found, now=back, policy=POLICY) == 2
        db.commit()
    # Its moment (Monday 11:00) passed in the pause; Wednesday 11:00 is after the workshop:
    # it goes now, while there is still time.
    [lineup] = rows(engine, "lineup")
    assert (lineup.state, lineup.not_before, lineup.not_after) == (
        OutboxState.PENDING,
        back,
        STARTED,
    )
    [kickoff] = rows(engine, "kickoff")
    assert kickoff.not_before == datetime(2026, 12, 9, 8, 30, tzinfo=UTC)  # next day, 09:30


EVE = """\
id: eve
name: Eve of the workshop
owner: hr@example.com
start: 2026-12-07
default_language: en
workshops:
  - id: energy
    title: "What gives you energy?"
    starts: "{starts}"
    zone: Europe/Amsterdam
    minutes: 60
steps:
  - id: eve
    workshop: energy
    before: 1d
    message: "Tomorrow: what gives you energy?"
"""


def relaunch(engine: Engine, text: str, now: datetime) -> None:
    spec = parse(text)
    with Session(engine, expire_on_commit=False) as db:
        owner = db.exec(select(Person).where(Person.email == spec.owner)).one()
        plan = plan_launch(db, spec, now=now)
        assert plan.changed_steps == ["eve"]  # timed by the workshop, no sign-up button
        launch(db, CONTENT, plan, owner=owner, now=now, policy=POLICY)
        db.commit()


def test_a_step_timed_by_a_workshop_moves_with_it(engine: Engine) -> None:
    hr(engine)
    queued_at = datetime(2026, 12, 8, 14, 0, tzinfo=UTC)
    launch_spec(engine, parse(EVE.format(starts="2026-12-10T14:00+01:00")), now=queued_at)
    [row] = rows(engine, "eve")
    assert (row.not_before, row.not_after) == (
        datetime(2026, 12, 9, 13, 0, tzinfo=UTC),
        datetime(2026, 12, 10, 13, 0, tzinfo=UTC),
    )
    # A day later: the message moves along, and so does its deadline.
    relaunch(engine, EVE.format(starts="2026-12-11T14:00+01:00"), queued_at)
    [row] = rows(engine, "eve")
    assert (row.state, row.not_before, row.not_after) == (
        OutboxState.PENDING,
        datetime(2026, 12, 10, 13, 0, tzinfo=UTC),
        datetime(2026, 12, 11, 13, 0, tzinfo=UTC),
    )
    # Earlier, to Wednesday 10:00: the old moment (Wednesday 14:00) would be after the start,
    # the new one (Tuesday 10:00) has passed but the workshop is still ahead: it goes now.
    relaunch(engine, EVE.format(starts="2026-12-09T10:00+01:00"), queued_at)
    [row] = rows(engine, "eve")
    assert (row.state, row.not_before, row.not_after) == (
        OutboxState.PENDING,
        datetime(2026, 12, 8, 9, 0, tzinfo=UTC),
        datetime(2026, 12, 9, 9, 0, tzinfo=UTC),
    )


def test_hr_chat_says_who_would_get_an_invitation_too_late(engine: Engine, tmp_path: Path) -> None:
    hanna = hr(engine)
    author(engine, hanna, "all")
    add_person(engine, "nyc@example.com", name="Nia York", timezone="America/New_York")
    tuesday = WEEK.replace("  - id: lineup\n    day: 0\n", "  - id: lineup\n    day: 1\n")
    assert tuesday != WEEK  # 11:00 on the workshop's day: 17:00 in Amsterdam for Nia
    (tmp_path / "growth-week.yaml").write_text(tuesday, encoding="utf-8")
    rt = runtime(engine, LAUNCH, tmp_path)
    rt.handle(Turn(person_id=hanna, text="campaigns"))
    said = texts(rt.handle(Turn(person_id=hanna, text="1")))
    assert "Workshop timing, per time zone" in said
    assert "America/New_York (1): step 'lineup'" in said
    assert "nyc@example.com" in said and "Europe/Amsterdam" not in said
    with Session(engine) as db:
        assert db.exec(select(Outbound)).all() == []  # only said: nothing launched yet
