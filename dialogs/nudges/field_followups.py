"""The look back after the Know/Flow/Glow/Grow field: a few months after someone placed
themselves on the field, one nudge asks how it is going: does it work in practice? (The seeds:
outcomes "should be checked after a few months".)

The rule lives here, beside the other nudge rules, because :mod:`dialogs.nudges.rules` may not
import the flows; the conversation itself is :mod:`dialogs.flows.field`. A placement is an
:class:`~storage.models.Answer` of the ``field`` dialog with question ``field-self`` (its
``frame`` the place); a look back is an answer with question ``field-practice``. Both are the
person's own items, so export, deletion, sharing and the privacy centre cover them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from storage.models import Answer

FIELD_DIALOG = "field"
SELF = "field-self"
MANAGER = "field-manager"
TEAM = "field-team"
NOTE = "field-note"
PRACTICE = "field-practice"
"""Question ids of the field's answers (their texts: ``exercises`` in questions.yaml)."""

FOLLOW_UP_KIND = "field_followup"
FOLLOW_UP_ACTION = "field"
"""The nudge's button: the intent that opens the field, which starts with the look back."""
FOLLOW_UP_DAYS = 91
"""About three months after the placement..."""
FOLLOW_UP_WINDOW_DAYS = 30
"""...or within a month after that (after a long pause, say); later it is not sent at all."""
LOOK_BACK_AFTER_DAYS = 28
"""Opening the field at least this long after the last placement starts with the look back,
nudged or not."""

Candidate = tuple[str, str, date, dict[str, str], int | None]
"""(kind, idempotency key, target day, text values, weekday): a one-off for the nudge rules."""


@dataclass(frozen=True)
class Placement:
    """Someone's latest place on the field, and whether they have looked back on it since."""

    answer_id: int
    person_id: int
    at: datetime
    frame: str
    looked_back: bool = False


def latest_placements(
    db: Session, *, since: datetime, person_id: int | None = None
) -> dict[int, Placement]:
    """Per person, the latest placement made since ``since`` (of one person, when given)."""
    query = (
        select(Answer)
        .where(Answer.dialog_id == FIELD_DIALOG)
        .where(col(Answer.question_id).in_([SELF, PRACTICE]))
        .where(Answer.created_at >= since)
        .order_by(col(Answer.created_at), col(Answer.id))
    )
    if person_id is not None:
        query = query.where(Answer.person_id == person_id)
    found: dict[int, Placement] = {}
    for answer in db.exec(query):
        owner = answer.person_id
        if answer.question_id == SELF and answer.id is not None:
            found[owner] = Placement(answer.id, owner, answer.created_at, answer.frame or "")
        elif owner in found:
            found[owner] = replace(found[owner], looked_back=True)
    return found


def placed_with(db: Session, placement: Answer) -> list[Answer]:
    """The person's other answers saved with a placement (in the same turn: the same
    instant), oldest first: the other's place and the note."""
    return list(
        db.exec(
            select(Answer)
            .where(Answer.person_id == placement.person_id)
            .where(Answer.dialog_id == FIELD_DIALOG)
            .where(Answer.created_at == placement.created_at)
            .where(Answer.id != placement.id)
            .order_by(col(Answer.id))
        )
    )


def placements_to_follow_up(db: Session, *, now: datetime) -> dict[int, Placement]:
    """What :func:`field_followups` needs for everyone: the latest placements recent enough
    to be followed up (one query)."""
    since = now - timedelta(days=FOLLOW_UP_DAYS + FOLLOW_UP_WINDOW_DAYS + 2)
    return latest_placements(db, since=since)


def field_followups(placement: Placement | None, today: date) -> list[Candidate]:
    """The look back that is due for this placement on the person's ``today``, if any: once,
    from three months after the placement, unless they already looked back or placed
    themselves again."""
    if placement is None or placement.looked_back:
        return []
    target = placement.at.date() + timedelta(days=FOLLOW_UP_DAYS)
    if not target <= today <= target + timedelta(days=FOLLOW_UP_WINDOW_DAYS):
        return []
    key = f"{FOLLOW_UP_KIND}:{placement.answer_id}"
    return [(FOLLOW_UP_KIND, key, target, {"field": placement.frame.capitalize()}, None)]
