"""The scheduler inside ``regie serve``: APScheduler 3.x, one per deployment.

Exactly one process schedules: on PostgreSQL the holder of a session advisory lock, on SQLite
the holder of a lock file next to the database. Every other ``regie serve`` delivers messages,
says that another process schedules, and tries for the lock again every ``TAKEOVER_SECONDS``:
when the scheduling process dies (even by ``SIGKILL``) its lock goes with it — PostgreSQL ends
the session, the kernel releases the file lock — and one of the others takes over within that
interval. Jobs only write outbox rows with idempotency keys, so a double fire sends once.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.config import Settings
from bot.health import Health
from bot.jobs import RUN_DUE_JOB
from storage.db import get_engine
from storage.scheduler_runs import record_run

log = logging.getLogger(__name__)
ADVISORY_LOCK = 0x5265676965  # "Regie"
TAKEOVER_SECONDS = 30
RUN_EVERY = timedelta(minutes=1)
"""How often the one job (``run-due``) runs: what the health page's "next run" adds up."""


def report_to(
    scheduler: BaseScheduler, health: Health | None, *, database_url: str | None = None
) -> None:
    """Every run of a job, as it ends, goes to ``health`` (ok, or the type of its error) and
    to the database (``scheduler_run``), where every replica's health page reads it. A run
    that cannot be written is logged; it never stops the scheduler."""
    host = f"{socket.gethostname()} (pid {os.getpid()})"
    clock = health.clock if health is not None else lambda: datetime.now(UTC)

    def ran(event: JobExecutionEvent) -> None:
        if health is not None:
            health.scheduler_ran(event.exception, job=event.job_id)
        if database_url is None:
            return
        error = type(event.exception).__name__ if event.exception is not None else None
        try:
            with Session(get_engine(database_url)) as db:
                record_run(db, event.job_id, at=clock(), error=error, host=host)
                db.commit()
        except Exception as failure:  # the next run tries again
            log.warning("could not record the scheduler's run: %s", type(failure).__name__)

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
        seconds=RUN_EVERY.total_seconds(),
        id=RUN_DUE_JOB,
        replace_existing=True,
        kwargs={"database_url": settings.database_url},
        next_run_time=datetime.now(UTC),
    )
    report_to(scheduler, health, database_url=settings.database_url)
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


def _lock_for(engine: Engine) -> Callable[[], bool]:
    """The one attempt at becoming the scheduler on ``engine``'s kind of database."""
    if engine.dialect.name == "sqlite":
        return lambda: _sqlite_lock(engine)
    return lambda: _postgres_lock(engine)


def start_scheduler(
    settings: Settings,
    engine: Engine,
    health: Health | None = None,
    *,
    retry_every: float = TAKEOVER_SECONDS,
) -> BackgroundScheduler:
    """Start scheduling if this process is the one scheduler, or as soon as it becomes it (the
    lock is tried again every ``retry_every`` seconds); each run's outcome goes to ``health``.
    The scheduler is returned either way: ``running`` says whether it schedules yet."""
    scheduler = build_scheduler(settings, health)
    lock = _lock_for(engine)
    if lock():
        log.info("this process runs the scheduler")
        scheduler.start()
        return scheduler
    log.warning(
        "Another `regie serve` already runs the scheduler for this database; this process "
        "delivers messages and takes over scheduling if that one stops."
    )

    def campaign() -> None:
        while not lock():
            threading.Event().wait(retry_every)
        log.info("this process now runs the scheduler (the one before it stopped)")
        scheduler.start()

    threading.Thread(target=campaign, name="regie-scheduler-election", daemon=True).start()
    return scheduler
