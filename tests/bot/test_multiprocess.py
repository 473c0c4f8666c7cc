"""Two delivery processes on one database (``regie run-due`` twice at once): every recipient
gets exactly one message. Runs on SQLite and, in CI, on the real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Person
from tests.bot.slack_fake import FakeSlack

REGIE = str(Path(sys.executable).parent / "regie")
PEOPLE = 40


def test_two_processes_deliver_each_message_once(any_db_url) -> None:
    engine = make_engine(any_db_url)
    upgrade(engine)
    now = datetime(2026, 12, 1, 8, 40, tzinfo=UTC)
    with Session(engine) as db:
        db.add_all(
            Person(
                email=f"p{n}@example.com",
                name=f"P{n}",
                slack_user_id=f"U{n}",
                welcomed_at=now - timedelta(days=14),
            )
            for n in range(PEOPLE)
        )
        db.commit()
    engine.dispose()
    with FakeSlack() as fake:
        fake.latency = 0.02
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
        env |= {
            "REGIE_DATABASE_URL": any_db_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "s",
            "REGIE_SLACK_API_URL": fake.url,
            "REGIE_SLACK_SEND_RATE": "200",
        }
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
