"""The outbox delivery worker against the local fakes: Slack, Teams, errors and retries."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlmodel import Session, select

from bot.channels.slack.client import web_client
from bot.channels.slack.outbound import SlackSender
from bot.channels.teams.outbound import TeamsSender
from bot.delivery import DeliveryWorker
from dialogs.engine.content import load_content
from dialogs.engine.replies import Offer, reply_to_dict
from storage.models import Outbound, Person
from storage.outbox import OutboxMessage, enqueue, retry_dead, status
from tests.bot.conftest import Ran, Run, slack_settings
from tests.bot.slack_fake import FakeSlack
from tests.bot.teams_harness import card_of, card_text
from tests.bot.teams_harness import run as run_on_loop

NOW = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)
NUDGE = [
    reply_to_dict(Offer("Time for a check-in?", (("checkin", "Check in now"), ("pause", "Pause"))))
]
REGIE = str(Path(sys.executable).parent / "regie")


def add(engine, **fields) -> int:
    with Session(engine) as db:
        person = Person(
            email=fields.pop("email", "kim@example.com"), name="Kim", welcomed_at=NOW, **fields
        )
        db.add(person)
        db.flush()
        enqueue(db, OutboxMessage(f"checkin:{person.id}", person.id, "checkin", NOW, NUDGE))
        db.commit()
        return int(person.id)


def rows(engine) -> list[Outbound]:
    with Session(engine) as db:
        return list(db.exec(select(Outbound).order_by(Outbound.id)))


def deliver(engine, senders, now=NOW):
    return asyncio.run(DeliveryWorker(engine, senders, clock=lambda: now).run_once())


def test_a_slack_nudge_is_sent_once_with_its_key_and_start_buttons(engine) -> None:
    add(engine, slack_user_id="U1")
    with FakeSlack() as fake:
        sender = SlackSender(web_client(slack_settings(fake)), load_content(), engine)
        report = deliver(engine, [sender])
        assert (report.sent, report.failed) == (1, 0)
        assert deliver(engine, [sender]).sent == 0  # nothing twice
        [message] = fake.calls_to("chat.postMessage")
    assert message["channel"] == "U1"
    assert message["metadata"]["event_payload"]["key"].startswith("checkin:")
    buttons = [
        e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]
    ]
    assert buttons == ["regie:start:checkin", "regie:start:pause"]
    [row] = rows(engine)
    assert (row.state, row.channel) == ("sent", "slack")


def test_transient_errors_back_off_and_permanent_ones_die_with_a_reason(engine) -> None:
    add(engine, slack_user_id="U1")
    add(engine, email="gone@example.com", slack_user_id="U404")
    with FakeSlack() as fake:
        sender = SlackSender(web_client(slack_settings(fake)), load_content(), engine)
        fake.fail_next("chat.postMessage", "internal_error")
        fake.fail_next("chat.postMessage", "user_not_found")
        report = deliver(engine, [sender])
        assert (report.sent, report.failed, report.dead) == (0, 1, 1)
        retrying, dead = rows(engine)
        assert retrying.state == "failed" and retrying.not_before > NOW
        assert dead.state == "dead" and dead.last_error == "slack: user_not_found"
        assert deliver(engine, [sender], now=NOW + timedelta(seconds=5)).sent == 0  # not yet
        assert deliver(engine, [sender], now=NOW + timedelta(minutes=5)).sent == 1  # after backoff
        with Session(engine) as db:
            assert status(db).dead_reasons == {"slack: user_not_found": 1}
            assert retry_dead(db, now=NOW) == 1
            db.commit()
        assert deliver(engine, [sender], now=NOW + timedelta(minutes=6)).sent == 1
        assert len(fake.calls_to("chat.postMessage")) == 4


def test_a_rate_limit_waits_as_long_as_slack_asks(engine) -> None:
    add(engine, slack_user_id="U1")
    with FakeSlack() as fake:
        sender = SlackSender(web_client(slack_settings(fake)), load_content(), engine)
        sender.client.retry_handlers.clear()  # let the outbox handle it, not the client
        fake.fail_next("chat.postMessage", "ratelimited")
        deliver(engine, [sender])
    [row] = rows(engine)
    assert row.state == "failed" and row.not_before >= NOW + timedelta(seconds=1)


def test_paused_people_are_skipped_and_console_only_people_wait_for_the_console(engine) -> None:
    add(engine, slack_user_id="U1", nudge_paused_until=(NOW + timedelta(days=3)).date())
    add(engine, email="console@example.com")
    with FakeSlack() as fake:
        report = deliver(
            engine, [SlackSender(web_client(slack_settings(fake)), load_content(), engine)]
        )
        assert fake.calls_to("chat.postMessage") == []
    assert (report.skipped, report.console) == (1, 1)
    paused, console = rows(engine)
    assert paused.state == "skipped" and paused.last_error == "paused"
    assert (console.state, console.channel) == ("pending", "console")


def test_a_teams_nudge_goes_through_the_stored_conversation(teams_world) -> None:
    world, teams = teams_world, teams_world.teams
    world.bot.runtime.clock = lambda: NOW  # the button is pressed when the nudge is due
    teams.say("hi")
    teams.next_sent()
    with Session(world.engine) as db:
        kim = db.exec(select(Person)).one()
        enqueue(db, OutboxMessage("checkin:teams", kim.id, "checkin", NOW, NUDGE))
        db.commit()
    worker = DeliveryWorker(world.engine, [TeamsSender(world.bot)], clock=lambda: NOW)
    report = run_on_loop(world.server.loop, worker.run_once())
    assert report.sent == 1
    nudge = teams.next_sent()
    card = card_of(nudge)
    assert "Time for a check-in?" in card_text(card)
    start = next(a for a in card["actions"] if a["data"].get("regie_start") == "checkin")
    teams.submit(nudge, start["data"])
    energy = teams.next_sent()
    assert "energy" in card_text(card_of(energy))
    assert "✓ Check in now" in card_text(card_of(world.connector.wait_updates()[0]))


WELCOMED = datetime(2026, 12, 11, 10, 0, tzinfo=UTC)
"""A Friday: two weeks later is Christmas Day, a public holiday in the Netherlands."""
CHRISTMAS = datetime(2026, 12, 25, 8, 45, tzinfo=UTC)
NEXT_WORKING_DAY = datetime(2026, 12, 28, 8, 45, tzinfo=UTC)
"""Monday 09:45 in Amsterdam (the 26th, the second day of Christmas, is a Saturday): the
check-in's slot."""


@pytest.mark.parametrize("today", [date(2026, 12, 4), date(2027, 4, 26)], ids=str)
def test_run_due_and_the_console_inbox(run: Run, today: date) -> None:
    """Every step happens at a fixed instant (``regie`` runs in this process, travelled there
    by time-machine; ``run-due`` is also told ``--now``), so nothing depends on the day the suite
    runs. ``today`` is where the rest of the test process is: two days on which the old version
    of this test, which counted from the real clock, failed."""

    def at(instant: datetime, *args: str, stdin: str = "") -> Ran:
        with time_machine.travel(instant, tick=False):
            return run(*args, stdin=stdin)

    with time_machine.travel(datetime.combine(today, time(12, 0), tzinfo=UTC), tick=False):
        welcome = at(WELCOMED, "chat", "--as", "kim@example.com", stdin="hi\n1\nyes\n2\n")
        assert welcome.returncode == 0, welcome.stderr
        assert "Every two weeks it is." in welcome.stdout

        holiday = at(CHRISTMAS, "run-due", "--now", CHRISTMAS.isoformat())
        assert holiday.returncode == 0, holiday.stderr
        assert "0 new" in holiday.stdout  # a fortnight on is Christmas: the slot moves on
        first = at(NEXT_WORKING_DAY, "run-due", "--now", NEXT_WORKING_DAY.isoformat())
        assert first.returncode == 0, first.stderr
        assert "1 new" in first.stdout and "waiting in the console 1" in first.stdout
        again = at(NEXT_WORKING_DAY, "run-due", "--now", NEXT_WORKING_DAY.isoformat())
        assert "0 new" in again.stdout  # once

        later = NEXT_WORKING_DAY + timedelta(hours=2)
        shown = at(later, "chat", "--as", "kim@example.com", "--json")
        texts = [json.loads(line).get("text", "") for line in shown.stdout.splitlines()]
        assert any("Time for a quick check-in" in t for t in texts)
        assert "sent 1" in at(later, "outbox", "status").stdout
        next_chat = at(later + timedelta(hours=1), "chat", "--as", "kim@example.com", "--json")
        assert next_chat.returncode == 0, next_chat.stderr
        assert "Time for a quick check-in" not in next_chat.stdout  # shown once


def test_http_429_with_retry_after_from_slack_and_teams(engine, teams_world) -> None:
    from tests.bot.fake_limits import Throttle

    add(engine, slack_user_id="U1")
    with FakeSlack() as fake:
        fake.throttle = Throttle(per_second=0.001)  # everything is over the limit
        sender = SlackSender(web_client(slack_settings(fake)), load_content(), engine)
        sender.client.retry_handlers.clear()
        before = sender.limiter.rate
        report = deliver(engine, [sender])
    assert report.failed == 1 and sender.limiter.rate < before
    [row] = rows(engine)
    assert row.state == "failed" and row.not_before >= NOW + timedelta(seconds=1)

    world, teams = teams_world, teams_world.teams
    world.bot.runtime.clock = lambda: NOW
    teams.say("hi")
    teams.next_sent()
    with Session(world.engine) as db:
        kim = db.exec(select(Person).where(Person.teams_aad_id.is_not(None))).one()
        enqueue(db, OutboxMessage("teams:429", kim.id, "checkin", NOW, NUDGE))
        db.commit()
    world.connector.throttle = Throttle(per_second=0.001)
    worker = DeliveryWorker(world.engine, [TeamsSender(world.bot)], clock=lambda: NOW)
    assert run_on_loop(world.server.loop, worker.run_once()).failed == 1
    with Session(world.engine) as db:
        row = db.exec(select(Outbound).where(Outbound.idempotency_key == "teams:429")).one()
    assert row.state == "failed" and "429" in (row.last_error or "")
    world.connector.throttle = None
    world.connector.fail_next(502)  # a transient 5xx: retried later too
    later = DeliveryWorker(
        world.engine, [TeamsSender(world.bot)], clock=lambda: NOW + timedelta(hours=1)
    )
    assert run_on_loop(world.server.loop, later.run_once()).failed == 1
    last = DeliveryWorker(
        world.engine, [TeamsSender(world.bot)], clock=lambda: NOW + timedelta(hours=3)
    )
    assert run_on_loop(world.server.loop, last.run_once()).sent == 1


def test_outbox_and_report_commands(tmp_path) -> None:
    from storage.db import make_engine
    from storage.migrate import upgrade

    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
    env["REGIE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'regie.db'}"
    engine = make_engine(env["REGIE_DATABASE_URL"])
    upgrade(engine)
    add(engine, slack_user_id="U404")
    with Session(engine) as db:
        row = db.exec(select(Outbound)).one()
        row.state, row.last_error = "dead", "slack: user_not_found"
        db.add(row)
        db.commit()

    def regie(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([REGIE, *args], env=env, capture_output=True, text=True, timeout=120)

    status_output = regie("outbox", "status").stdout
    assert "dead 1" in status_output and "dead (1): slack: user_not_found" in status_output
    assert "1 message(s) back in the queue" in regie("outbox", "retry-dead").stdout
    assert "pending 1" in regie("outbox", "status").stdout
    report = regie(
        "report",
        "participation",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",  # a fixed period, not "until today"
        "--csv",
        str(tmp_path / "p.csv"),
    )
    assert report.returncode == 0, report.stderr
    assert "people" in report.stdout and "<5" in report.stdout  # one person: suppressed
    # each figure by its friendly name, with what it means and its key (bot/participation_report)
    header = (tmp_path / "p.csv").read_text().splitlines()[0]
    assert header == "Figure,Period,People,What it means,Key"
