"""Two delivery processes on one database (``regie run-due`` twice at once): every recipient
gets exactly one message. Runs on SQLite and, in CI, on the real PostgreSQL server."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

from storage.db import make_engine
from storage.migrate import upgrade
from tests.bot.outbox_helpers import REGIE, regie_env, slack_people_due
from tests.bot.slack_fake import FakeSlack

PEOPLE = 40


def test_two_processes_deliver_each_message_once(any_db_url) -> None:
    engine = make_engine(any_db_url)
    upgrade(engine)
    now = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
    slack_people_due(engine, PEOPLE, now=now)
    engine.dispose()
    with FakeSlack() as fake:
        fake.latency = 0.02
        env = regie_env(any_db_url, fake.url, REGIE_SLACK_SEND_RATE="200")
        runs = [
            subprocess.Popen(
                [REGIE, "run-due", "--now", now.isoformat()],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=120)[0] for run in runs]
        assert all(run.returncode == 0 for run in runs), outputs
        per_dm = {channel: len(messages) for channel, messages in fake.history.items()}
    assert per_dm == {f"DU{n}": 1 for n in range(PEOPLE)}
