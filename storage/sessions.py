"""Dialog sessions: the durable state of the conversations (see dialogs/engine/runtime.py)."""

from __future__ import annotations

from sqlalchemy import and_, bindparam
from sqlmodel import Session, col, select

from storage.models import DialogSession, Person, SessionStatus

_PERSON_WITH_OPEN_SESSION = (
    select(Person, DialogSession)
    .outerjoin(
        DialogSession,
        and_(
            col(DialogSession.person_id) == Person.id,
            col(DialogSession.status) == SessionStatus.ACTIVE,
        ),
    )
    .where(col(Person.id) == bindparam("person_id"))
    .order_by(col(DialogSession.id).desc())
    .limit(1)
)
"""Built once: every turn runs it, and building the statement cost more than running it (the
compiled form is cached by SQLAlchemy either way)."""


def person_with_open_session(
    db: Session, person_id: int
) -> tuple[Person, DialogSession | None] | None:
    """The person and their newest active conversation, in one query; None for no such
    person."""
    row = db.exec(_PERSON_WITH_OPEN_SESSION, params={"person_id": person_id}).first()
    return None if row is None else (row[0], row[1])
