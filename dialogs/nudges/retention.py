"""Telling people before their old items are deleted (only when the organisation set a
retention period, ``REGIE_RETENTION_MONTHS``), and deleting them when the notice's day comes.

A person whose items will be older than the period within ``notice_days`` gets one message
(kind ``retention``, not held back by a nudge pause: it is about their own data) at their
nudge time, saying on which day what is deleted and how to export it first. Exactly those
items — unchanged since the notice's cut-off — are deleted ``notice_days`` after the notice was
due, never sooner; anything changed meanwhile stays. At most one notice in four weeks."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from dialogs.engine.calendar import NudgePolicy, slot
from dialogs.engine.content import Content
from dialogs.engine.replies import Offer, reply_to_dict
from storage.models import Person
from storage.outbox import OutboxMessage
from storage.retention import (
    NOTICE_EVERY_DAYS,
    NOTICE_KIND,
    delete_expired,
    expiring,
    last_notices,
    months_before,
    notices_due,
)


def cutoff(due: datetime, *, months: int, notice_days: int) -> datetime:
    """What a notice due at ``due`` covers: items unchanged since this moment."""
    return months_before(due + timedelta(days=notice_days), months)


def due_notices(
    db: Session,
    content: Content,
    *,
    now: datetime,
    months: int,
    notice_days: int,
    policy: NudgePolicy,
) -> list[OutboxMessage]:
    """Notices due at ``now``, for ``storage.outbox.enqueue_many``."""
    soon = expiring(db, before=cutoff(now, months=months, notice_days=notice_days))
    if not soon:
        return []
    told = last_notices(db, since=now - timedelta(days=NOTICE_EVERY_DAYS))
    wanted = [person_id for person_id in soon if person_id not in told]
    people = list(db.exec(select(Person).where(col(Person.id).in_(wanted)))) if wanted else []
    found: list[OutboxMessage] = []
    for person in people:
        assert person.id is not None
        today = now.astimezone(ZoneInfo(person.timezone)).date()
        unpaused = person.model_copy(update={"nudge_paused_until": None})
        at = max(slot(unpaused, today, policy), now)
        # the count and the day as they will be when the notice is due
        count = expiring(db, before=cutoff(at, months=months, notice_days=notice_days))
        if not count.get(person.id):
            continue
        found.append(
            OutboxMessage(
                f"{NOTICE_KIND}:{person.id}:{at.date().isoformat()}",
                person.id,
                NOTICE_KIND,
                at,
                [reply_to_dict(notice(content, person, at, count[person.id], months, notice_days))],
            )
        )
    return found


def notice(
    content: Content, person: Person, at: datetime, count: int, months: int, notice_days: int
) -> Offer:
    """The notice in the person's language, with a button to the privacy centre (export)."""
    lang = person.language
    zone = ZoneInfo(person.timezone)
    day = (at + timedelta(days=notice_days)).astimezone(zone).date()
    since = cutoff(at, months=months, notice_days=notice_days).astimezone(zone).date()
    text = content.text(
        lang,
        "retention.notice",
        count=count,
        date=content.date(lang, day),
        cutoff=content.date(lang, since),
        period=content.text(lang, "retention.period", count=months),
    )
    return Offer(text, (("privacy", content.text(lang, "retention.open_privacy")),))


def delete_announced(db: Session, *, now: datetime, months: int, notice_days: int) -> int:
    """Delete what the notices whose day has come announced. Returns how many items went."""
    until = now - timedelta(days=notice_days)
    since = until - timedelta(days=NOTICE_EVERY_DAYS + 7)
    deleted = 0
    for person_id, due in notices_due(db, since=since, until=until):
        before = cutoff(due, months=months, notice_days=notice_days)
        deleted += delete_expired(db, person_id, before=before, now=now)
    return deleted
