"""A learning-needs pulse in the database: answers stored unlinked from who gave them.

- ``pulse_answer``: one row per answer, with no person and no time, a random id, and the
  answerer's department only when at least K of the pulse's recipients work there.
- ``campaign_response`` (kind ``pulse``): that someone answered, nothing more (reminders and
  the response count use it).
- ``pulse_copy``: while the pulse is open, each person's link to their own answers, so they can
  read them back and forgetting them removes their answers too.

:func:`close` ends the link: the copies go, and the answers are written again in a random
order under new random ids (so neither their ids nor where they sit in the table tell in which
order, or in which transaction, they came). After that nothing links anyone to an answer.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from storage.campaigns import drop_unsent, respond
from storage.models import (
    AuditEntry,
    CampaignRecipient,
    CampaignResponse,
    DialogSession,
    Person,
    PulseAnswer,
    PulseClosed,
    PulseCopy,
)
from storage.privacy import Reader, min_group_size

ANSWERED = "pulse"
"""The ``campaign_response`` kind that says someone answered the pulse."""
CLOSED = "pulse closed"
"""Why a campaign message not sent by the time its pulse closed was skipped."""
DIALOG = "pulse"
"""The dialog whose sessions hold answers being given (cleared when the pulse closes)."""


@dataclass(frozen=True)
class Row:
    """An answer as HR's figures see it: which question, what, and a department or None."""

    question: str
    value: str
    department: str | None


def _new_id() -> str:
    return secrets.token_hex(16)


def answered(db: Session, campaign_id: int, person_id: int) -> bool:
    query = select(CampaignResponse.id).where(
        CampaignResponse.campaign_id == campaign_id,
        CampaignResponse.person_id == person_id,
        CampaignResponse.kind == ANSWERED,
    )
    return db.exec(query).first() is not None


def answered_count(db: Session, campaign_id: int) -> int:
    query = select(func.count(func.distinct(CampaignResponse.person_id))).where(
        CampaignResponse.campaign_id == campaign_id, CampaignResponse.kind == ANSWERED
    )
    return int(db.exec(query).one())


def group_of(db: Session, campaign_id: int, person: Person, *, min_group: int) -> str | None:
    """The department stored with the person's answers: theirs when at least K of the pulse's
    recipients work there (else None, so a small department is never written down)."""
    if not person.department:
        return None
    query = (
        select(func.count())
        .select_from(CampaignRecipient)
        .join(Person, col(Person.id) == col(CampaignRecipient.person_id))
        .where(
            CampaignRecipient.campaign_id == campaign_id,
            Person.department == person.department,
        )
    )
    members = int(db.exec(query).one())
    return person.department if members >= min_group_size(min_group) else None


def save(
    db: Session,
    campaign_id: int,
    step: str,
    person: Person,
    answers: Mapping[str, str],
    *,
    min_group: int,
    now: datetime,
) -> bool:
    """Store the person's answers unlinked, note that they answered, and keep their own copy
    until the pulse closes. False (nothing stored) when they had answered already."""
    assert person.id is not None
    if answered(db, campaign_id, person.id):
        return False
    if not respond(db, campaign_id, step, person.id, ANSWERED, now):
        return False
    department = group_of(db, campaign_id, person, min_group=min_group)
    rows = [
        PulseAnswer(
            id=_new_id(), campaign_id=campaign_id, question=q, value=v, department=department
        )
        for q, v in answers.items()
    ]
    db.add_all(rows)
    db.flush()
    db.add_all(
        PulseCopy(campaign_id=campaign_id, person_id=person.id, answer_id=row.id) for row in rows
    )
    db.flush()
    return True


def own_answers(db: Session, campaign_id: int, person_id: int) -> dict[str, str]:
    """The person's own answers while the pulse is open (question id -> value)."""
    query = (
        select(PulseAnswer.question, PulseAnswer.value)
        .join(PulseCopy, col(PulseCopy.answer_id) == col(PulseAnswer.id))
        .where(PulseCopy.campaign_id == campaign_id, PulseCopy.person_id == person_id)
    )
    return {question: value for question, value in db.exec(query)}


def open_copies(db: Session, person_id: int) -> list[int]:
    """The pulses (campaign ids) of which the person can still read their answers."""
    query = select(PulseCopy.campaign_id).where(PulseCopy.person_id == person_id).distinct()
    return sorted(db.exec(query))


def is_closed(db: Session, campaign_id: int) -> bool:
    return db.get(PulseClosed, campaign_id) is not None


def close(db: Session, campaign_id: int, *, now: datetime) -> bool:
    """Close the pulse: no more answers; the copies go, answers being given in a conversation
    are dropped, the answers are rewritten in a random order under new ids, and campaign
    messages still waiting are skipped. False when it was closed already."""
    if is_closed(db, campaign_id):
        return False
    db.add(PulseClosed(campaign_id=campaign_id, closed_at=now))
    db.exec(delete(PulseCopy).where(col(PulseCopy.campaign_id) == campaign_id))
    rows = [
        (row.question, row.value, row.department)
        for row in db.exec(select(PulseAnswer).where(PulseAnswer.campaign_id == campaign_id))
    ]
    db.exec(delete(PulseAnswer).where(col(PulseAnswer.campaign_id) == campaign_id))
    db.flush()
    random.SystemRandom().shuffle(rows)
    db.add_all(
        PulseAnswer(id=_new_id(), campaign_id=campaign_id, question=q, value=v, department=d)
        for q, v, d in rows
    )
    for session in db.exec(select(DialogSession).where(DialogSession.dialog_id == DIALOG)):
        if session.values.get("campaign_id") == campaign_id:
            session.values = {}
            db.add(session)
    drop_unsent(db, reason=CLOSED, campaign_id=campaign_id)
    db.flush()
    return True


def rows(db: Session, campaign_id: int, *, reader: Reader, now: datetime) -> list[Row]:
    """Every answer of the pulse, for HR's figures (``dialogs/campaigns/pulse_report.py`` puts
    them under the ``<K`` rule); the look is audited. In the order of their random ids."""
    db.add(
        AuditEntry(
            at=now,
            actor_id=reader.person_id,
            action="pulse_report",
            detail=reader.detail() | {"campaign_id": campaign_id},
        )
    )
    query = (
        select(PulseAnswer.question, PulseAnswer.value, PulseAnswer.department)
        .where(PulseAnswer.campaign_id == campaign_id)
        .order_by(col(PulseAnswer.id))
    )
    return [Row(q, v, d) for q, v, d in db.exec(query)]


# -- one person's rows (export and forgetting) -----------------------------------------------


def rows_of(db: Session, person_id: int) -> dict[str, list[Any]]:
    """The person's answers to pulses still open (through their copy), for ``export_person``."""
    query = (
        select(PulseCopy.campaign_id, PulseAnswer.question, PulseAnswer.value)
        .join(PulseAnswer, col(PulseCopy.answer_id) == col(PulseAnswer.id))
        .where(PulseCopy.person_id == person_id)
        .order_by(col(PulseCopy.id))
    )
    return {
        "pulse_answer": [
            {"campaign_id": campaign_id, "question": question, "value": value}
            for campaign_id, question, value in db.exec(query)
        ]
    }


def forget(db: Session, person_id: int) -> None:
    """Before a pulse closes the person's answers are still theirs: they go with their copy.
    After it closes nothing links them to any answer, so nothing can be found to delete."""
    mine = select(PulseCopy.answer_id).where(PulseCopy.person_id == person_id)
    answer_ids = list(db.exec(mine))
    db.exec(delete(PulseCopy).where(col(PulseCopy.person_id) == person_id))
    if answer_ids:
        db.exec(delete(PulseAnswer).where(col(PulseAnswer.id).in_(answer_ids)))
