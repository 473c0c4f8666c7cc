"""Shared set-up for the tests that run ``regie run-due`` processes against the fake Slack."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from storage.models import Person

REGIE = str(Path(sys.executable).parent / "regie")


def slack_people_due(engine: Engine, count: int, *, now: datetime) -> None:
    """``count`` people on Slack whose fortnightly check-in is due at ``now``."""
    with Session(engine) as db:
        db.add_all(
            Person(
                email=f"p{n}@example.com",
                name=f"P{n}",
                slack_user_id=f"U{n}",
                welcomed_at=now - timedelta(days=14),
            )
            for n in range(count)
        )
        db.commit()


def regie_env(database_url: str, slack_api_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
    return (
        env
        | {
            "REGIE_DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "s",
            "REGIE_SLACK_API_URL": slack_api_url,
        }
        | extra
    )
