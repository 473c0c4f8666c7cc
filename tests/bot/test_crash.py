"""A real crash: the delivery process killed with SIGKILL in the middle of sending, restarted,
and every Slack recipient checked for exactly one message. (The paced recovery itself, with
failed and throttled look-ups, is in ``test_recovery.py``.)"""

from __future__ import annotations

import signal
import subprocess
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from storage.db import make_engine
from storage.models import Outbound
from tests.bot.outbox_helpers import REGIE, regie_env, slack_people_due
from tests.bot.slack_fake import FakeSlack
from tests.bot.sync_helpers import wait_until

PEOPLE = 20


def test_killed_mid_delivery_and_restarted_every_recipient_gets_exactly_one(db_url: str) -> None:
    url = db_url  # migrated, SQLite or PostgreSQL
    engine = make_engine(url)
    now = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)  # a Tuesday, 09:40 in Amsterdam
    slack_people_due(engine, PEOPLE, now=now)
    with FakeSlack() as fake:
        fake.latency = 0.15
        # the restart comes a minute later: rows claimed then were left by a dead process
        env = regie_env(url, fake.url, REGIE_OUTBOX_STUCK_AFTER="30", REGIE_SLACK_SEND_RATE="40")
        victim = subprocess.Popen(
            [REGIE, "run-due", "--now", now.isoformat()],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert wait_until(lambda: len(fake.calls_to("chat.postMessage")) >= PEOPLE // 3, timeout=60)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
        # Requests already on the wire still land: wait until every call the fake took is in
        # its history, so the recovery below sees what really arrived.
        assert wait_until(
            lambda: (
                len(fake.calls_to("chat.postMessage"))
                == sum(len(messages) for messages in fake.history.values())
            )
        )
        with Session(engine) as db:
            states = [row.state for row in db.exec(select(Outbound))]
        assert "sending" in states, states  # killed in the middle: rows left "sending"
        assert 0 < len(fake.calls_to("chat.postMessage")) < PEOPLE
        again = subprocess.run(
            [REGIE, "run-due", "--now", (now + timedelta(minutes=1)).isoformat()],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 0, again.stdout + again.stderr
        per_dm = {channel: len(messages) for channel, messages in fake.history.items()}
        looked_up = fake.calls_to("conversations.history")
    assert per_dm == {f"DU{n}": 1 for n in range(PEOPLE)}
    assert 0 < len(looked_up) <= PEOPLE  # at most one look-up per person (Slack Tier 3)
    with Session(engine) as db:
        assert {row.state for row in db.exec(select(Outbound))} == {"sent"}
    engine.dispose()
