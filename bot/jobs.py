"""What the scheduler runs. Importable callables with JSON arguments (APScheduler 3.x stores
nothing but these), and the same code path as ``regie run-due``: a job's only effect is outbox
rows with idempotency keys, so a job that fires twice sends once."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from bot.config import Settings, get_settings
from bot.wiring import build_assistant, policy
from dialogs.campaigns.planner import due_messages
from dialogs.engine.assistant import run_in_transaction
from dialogs.engine.content import load_content
from dialogs.nudges.digest import due_digests
from dialogs.nudges.rules import due_nudges
from storage.db import get_engine, session_scope
from storage.models import utcnow
from storage.outbox import OutboxMessage, enqueue_many

log = logging.getLogger(__name__)
RUN_DUE_JOB = "regie:run-due"


def enqueue_due(settings: Settings, now: datetime) -> int:
    """Write every nudge due at ``now`` to the outbox; returns how many were new."""
    engine = get_engine(settings.database_url)
    content = load_content()
    with session_scope(engine) as db:
        nudges = due_nudges(db, content, now=now, policy=policy(settings))
        added = enqueue_many(db, nudges)
    with session_scope(engine) as db:
        messages = due_messages(db, content, now=now, policy=policy(settings))
        added += enqueue_many(db, messages)
    assistant = build_assistant(settings, content)

    def digests_due(db: Session) -> tuple[list[OutboxMessage], int]:
        digests = due_digests(
            db,
            content,
            now=now,
            min_group=settings.min_group_size,
            weekday=settings.digest_weekday,
            clock=settings.digest_time,
            nothing_new_note=settings.digest_nothing_new_note,
            cadence=settings.digest_cadence,
            assistant=assistant,
        )
        return digests, enqueue_many(db, digests)

    # The digest openings come from the model: asked with no transaction open, then the
    # digests are composed again with them and written in one short transaction.
    digests, new = run_in_transaction(engine, digests_due)
    added += new
    log.info(
        "run-due at %s: %d nudges, %d campaign messages and %d digests due, %d new in the outbox",
        now.isoformat(),
        len(nudges),
        len(messages),
        len(digests),
        added,
    )
    return added


def run_due(database_url: str, now_iso: str | None = None) -> int:
    """The scheduler's job (JSON arguments only)."""
    settings = get_settings().model_copy(update={"database_url": database_url})
    now = datetime.fromisoformat(now_iso) if now_iso else utcnow()
    return enqueue_due(settings, now)
