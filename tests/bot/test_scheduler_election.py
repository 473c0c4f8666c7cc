"""Exactly one process schedules, and another takes over when it dies: two real processes on
one database (PostgreSQL: a session advisory lock; SQLite: a lock file), the scheduling one
killed with SIGKILL, the other one's scheduler running the job afterwards. The retry interval
is shortened for the test; in ``regie serve`` it is ``TAKEOVER_SECONDS``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from sqlmodel import Session, func, select

from storage.db import make_engine
from storage.models import Person
from tests.bot.sync_helpers import wait_until

ROOT = Path(__file__).resolve().parents[2]
RETRY_SECONDS = "0.2"
SCHEDULING = "bot.scheduler this process"
JOB_RAN = "job regie:run-due ran: ok"


class Child:
    """A scheduler process whose output lines are collected as they come."""

    def __init__(self, database_url: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("REGIE_", "SLACK_"))}
        env |= {"REGIE_DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.bot.election_child", database_url, RETRY_SECONDS],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def said(self, text: str) -> int:
        return sum(text in line for line in list(self.lines))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)


def test_one_process_schedules_and_the_other_takes_over_after_sigkill(db_url: str) -> None:
    first = Child(db_url)
    second: Child | None = None
    try:
        assert wait_until(lambda: first.said(JOB_RAN) >= 1, timeout=60), first.lines
        assert first.said("this process runs the scheduler") == 1
        second = Child(db_url)
        # Positive signal that the second one has tried and lost the election:
        assert wait_until(lambda: second.said("already runs the scheduler") == 1, timeout=60), (
            second.lines
        )
        assert wait_until(lambda: second.said("listening for its jobs") == 1, timeout=30), (
            second.lines
        )
        assert second.said(SCHEDULING) == 0 and second.said("job regie:run-due ran") == 0

        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=30)

        assert wait_until(lambda: second.said(JOB_RAN) >= 1, timeout=60), second.lines
        assert second.said("this process now runs the scheduler") == 1
        assert "Traceback" not in "\n".join(second.lines)
    finally:
        first.stop()
        if second is not None:
            second.stop()
    # The job that ran in the new scheduler is the real one: it read the database it was given.
    engine = make_engine(db_url)
    with Session(engine) as db:
        assert db.exec(select(func.count()).select_from(Person)).one() == 0
    engine.dispose()
