"""Dialog sessions: the durable state of the conversations (see dialogs/engine/runtime.py)."""

from __future__ import annotations

from sqlalchemy import and_
from sqlmodel import Session, col, select

from storage.models import DialogSession, Person, SessionStatus


def person_with_open_session(
    db: Session, person_id: int
) -> tuple[Person, DialogSession | None] | None:
    """The person and their newest active conversation, in one query; None for no such
    person."""
    row = db.exec(
        select(Person, DialogSession)
        .outerjoin(
            DialogSession,
            and_(
                col(DialogSession.person_id) == Person.id,
                col(DialogSession.status) == SessionStatus.ACTIVE,
            ),
        )
        .where(Person.id == person_id)
        .order_by(col(DialogSession.id).desc())
    ).first()
    return None if row is None else (row[0], row[1])
