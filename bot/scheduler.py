"""The scheduler inside ``regie serve``: APScheduler 3.x, one per deployment.

Exactly one process schedules: on PostgreSQL the holder of a session advisory lock (another
process takes over within a minute when it dies); on SQLite the holder of a lock file next to the
database — a second ``regie serve`` on the same file delivers messages but does not schedule,
and says so. Jobs only write outbox rows with idempotency keys, so a double fire sends once.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import text
from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.health import Health
from bot.jobs import RUN_DUE_JOB

log = logging.getLogger(__name__)
ADVISORY_LOCK = 0x5265676965  # "Regie"
TAKEOVER_SECONDS = 30


def report_to(scheduler: BaseScheduler, health: Health) -> None:
    """Every run of a job, as it ends, goes to ``health`` (ok, or the type of its error)."""

    def ran(event: JobExecutionEvent) -> None:
        health.scheduler_ran(event.exception, job=event.job_id)

    scheduler.add_listener(ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)


def build_scheduler(settings: Settings, health: Health | None = None) -> BackgroundScheduler:
    """The scheduler with its one job, not started."""
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    scheduler.add_job(
        "bot.jobs:run_due",
        "interval",
        minutes=1,
        id=RUN_DUE_JOB,
        replace_existing=True,
        kwargs={"database_url": settings.database_url},
        next_run_time=datetime.now(UTC),
    )
    if health is not None:
        report_to(scheduler, health)
    return scheduler


class _Leadership:
    """Holds whatever makes this process the one scheduler; kept alive with the process."""

    file: IO[str] | None = None
    connection: Any = None


_held = _Leadership()


def _sqlite_lock(engine: Engine) -> bool:
    database = engine.url.database
    if not database or database == ":memory:":
        return True
    handle = Path(f"{database}.scheduler.lock").open("w")  # noqa: SIM115 (held for life)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return False
    _held.file = handle
    return True


def _postgres_lock(engine: Engine) -> bool:
    connection = engine.connect()
    got = bool(
        connection.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK}
        ).scalar()
    )
    if got:
        _held.connection = connection  # the lock lives as long as this session
    else:
        connection.close()
    return got


def start_scheduler(
    settings: Settings, engine: Engine, health: Health | None = None
) -> BackgroundScheduler | None:
    """Start scheduling if this process is (or, on PostgreSQL, once it becomes) the one
    scheduler; each run's outcome goes to ``health``."""
    scheduler = build_scheduler(settings, health)
    if engine.dialect.name == "sqlite":
        if not _sqlite_lock(engine):
            log.warning(
                "Another `regie serve` already runs the scheduler for this SQLite database; "
                "this process delivers messages but does not schedule them."
            )
            return None
        scheduler.start()
        return scheduler

    def campaign() -> None:
        while not _postgres_lock(engine):
            threading.Event().wait(TAKEOVER_SECONDS)
        log.info("this process now runs the scheduler")
        scheduler.start()

    threading.Thread(target=campaign, name="regie-scheduler-election", daemon=True).start()
    return scheduler
