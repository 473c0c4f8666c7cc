"""What the scheduler runs. Importable callables with JSON arguments (APScheduler 3.x stores
nothing but these), and the same code path as ``regie run-due``: a job's only effect is outbox
rows with idempotency keys, so a job that fires twice sends once — and retention: the text of
messages delivered ``REGIE_OUTBOX_RETENTION_DAYS`` ago is removed, and, with
``REGIE_RETENTION_MONTHS`` set, old items are announced and, when the notice's day has come,
deleted (both safe to repeat), and one-time links and web sessions that can no longer be used
are removed; and success stories posted to (or deleted from) the stories
channel (``bot/story_posts.py``: each try claimed first, so a double fire posts once)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.config import Settings, get_settings
from bot.story_posts import post_stories
from bot.wiring import build_assistant, policy
from dialogs.campaigns.planner import due_messages
from dialogs.campaigns.timing import keep_their_moment
from dialogs.engine.assistant import run_in_transaction
from dialogs.engine.content import Content, load_content
from dialogs.nudges.calm import CalmPolicy, calm
from dialogs.nudges.digest import due_digests
from dialogs.nudges.retention import delete_announced, due_notices
from dialogs.nudges.rules import due_nudges
from storage import links, teams_cards, web_sessions
from storage.db import get_engine, session_scope
from storage.models import utcnow
from storage.outbox import OutboxMessage, enqueue_many, prune_payloads

log = logging.getLogger(__name__)
RUN_DUE_JOB = "regie:run-due"
_last_tick: dict[str, datetime] = {}
"""Per database, the last tick of this process whose nudges were written (``run_due``): the
next tick evaluates only the people whose slot came after it. A process that starts, or takes
over the scheduling, evaluates everyone once."""


def enqueue_due(settings: Settings, now: datetime, *, since: datetime | None = None) -> int:
    """Write every nudge due at ``now`` to the outbox; returns how many were new. ``since``:
    the last tick whose nudges were written, whose slots need not be evaluated again."""
    engine = get_engine(settings.database_url)
    content = load_content()
    # At most one message per person per half-day (dialogs/nudges/calm.py): what is due is
    # folded together or moved before it is written.
    calmly = CalmPolicy(enabled=settings.calm, nudges=policy(settings))
    with session_scope(engine) as db:
        nudges, added = write_due_nudges(db, settings, content, now, since=since)
    with session_scope(engine) as db:
        messages = due_messages(db, content, now=now, policy=policy(settings))
        invitations, rest = keep_their_moment(db, messages)  # never moved past a workshop
        added += enqueue_many(db, calm(db, rest, now, calmly, content=content) + invitations)
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
        return digests, enqueue_many(db, calm(db, digests, now, calmly, content=content))

    # The digest openings come from the model: asked with no transaction open, then the
    # digests are composed again with them and written in one short transaction.
    digests, new = run_in_transaction(engine, digests_due)
    added += new
    added += apply_retention(settings, now)
    post_stories(settings, now)  # the stories channel, when one is set
    log.info(
        "run-due at %s: %d nudges, %d campaign messages and %d digests due, %d new in the outbox",
        now.isoformat(),
        nudges,
        len(messages),
        len(digests),
        added,
    )
    return added


def write_due_nudges(
    db: Session, settings: Settings, content: Content, now: datetime, *, since: datetime | None
) -> tuple[int, int]:
    """The nudges due at ``now`` (``since``: the last tick whose nudges were written), calmed
    (at most one message per person per half-day, dialogs/nudges/calm.py: what is due is
    folded together or moved) and written in ``db``'s transaction: how many were due, and
    how many rows are new."""
    calmly = CalmPolicy(enabled=settings.calm, nudges=policy(settings))
    with _collector_paused():
        nudges = due_nudges(
            db,
            content,
            now=now,
            policy=policy(settings),
            min_group=settings.min_group_size,
            since=since,
        )
        added = enqueue_many(db, calm(db, nudges, now, calmly, content=content))
    return len(nudges), added


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while a tick builds its nudges: the tick makes no
    cycles to collect, but the tens of thousands of messages at the slot of a whole time zone
    make it sweep the process's every object again and again (a second of the tick at
    100,000 people). Collected as usual afterwards."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def run_due(database_url: str, now_iso: str | None = None) -> int:
    """The scheduler's job (JSON arguments only). On the clock, each tick evaluates only the
    people whose slot came since this process's last tick whose nudges were written."""
    settings = get_settings().model_copy(update={"database_url": database_url})
    if now_iso:
        return enqueue_due(settings, datetime.fromisoformat(now_iso))
    now = utcnow()
    last = _last_tick.get(database_url)
    since = last if last is not None and last < now else None  # the clock went back: all
    added = enqueue_due(settings, now, since=since)
    _last_tick[database_url] = now  # not on failure: the next tick looks back further
    return added


def apply_retention(settings: Settings, now: datetime) -> int:
    """Remove the text of messages delivered long enough ago, and one-time links and web
    sessions that can no longer be used; with a retention period set,
    queue the notices due now and delete what earlier notices announced. Returns how many new
    notices were queued."""
    engine = get_engine(settings.database_url)
    with session_scope(engine) as db:
        sent_before = now - timedelta(days=settings.outbox_retention_days)
        pruned = prune_payloads(db, before=sent_before)
        pruned += teams_cards.prune(db, before=sent_before)  # the same text, as Teams cards
        # One-time links that can no longer be used, and web sessions that ended.
        ended = links.prune(db, now=now) + web_sessions.prune(db, now=now)
    months = settings.retention_months
    if months is None:
        log.info(
            "retention at %s: %d texts of sent messages removed, %d dead links and sessions",
            now.isoformat(),
            pruned,
            ended,
        )
        return 0
    with session_scope(engine) as db:
        notices = due_notices(
            db,
            load_content(),
            now=now,
            months=months,
            notice_days=settings.retention_notice_days,
            policy=policy(settings),
        )
        added = enqueue_many(db, notices)
        deleted = delete_announced(
            db, now=now, months=months, notice_days=settings.retention_notice_days
        )
    log.info(
        "retention at %s: %d texts of sent messages removed, %d dead links and sessions, "
        "%d notices new, %d items deleted",
        now.isoformat(),
        pruned,
        ended,
        added,
        deleted,
    )
    return added
