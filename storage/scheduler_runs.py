"""The scheduler's last run of each job (``scheduler_run``), shared by every replica: the one
process that schedules writes it after each run, any process's health page reads it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import SchedulerRun


def record_run(db: Session, job: str, *, at: datetime, error: str | None, host: str) -> None:
    """``job`` finished at ``at`` on ``host`` (``error``: the type of what it raised)."""
    run = db.get(SchedulerRun, job) or SchedulerRun(job=job, at=at)
    run.at, run.error, run.host = at, error[:200] if error else None, host[:255]
    db.add(run)


def last_run(db: Session) -> SchedulerRun | None:
    """The most recent run of any job, or None before the first one."""
    return db.exec(select(SchedulerRun).order_by(col(SchedulerRun.at).desc()).limit(1)).first()
