"""The cards Regie sent in Teams (``bot/channels/teams/sent.py`` is the channel's side).

Teams replaces a whole message when a bot updates it, so settling a card ("✓ English" below the
question, its buttons gone) needs the card as it was sent. Kept here, by conversation and
activity id, so that every replica behind the load balancer, and a restarted one, knows it.

A card is settled once: :func:`settle` and :func:`press` change a row only while it is not
settled yet (one ``UPDATE … WHERE NOT settled``), so of two presses arriving at once, on two
replicas, one wins and runs its turn; the other finds the card settled. A press marks its
claim (``pressed_at``) until its turn has ended (:func:`finish`); a claim whose process died
before that lapses after ``lease``, so a press is never lost to a crash.

A card holds what the bot said to the person: deleted with them (:func:`forget`), in their
export (:func:`cards_of`), and removed :func:`prune` days after it was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, or_, update
from sqlmodel import Session, col, select

from storage.models import TeamsCard


@dataclass(frozen=True)
class SentCard:
    """A card that went out: where (conversation and activity id), to whom, what it said and
    the question it asks (``Prompt.to_dict()``, the person's open one), if any."""

    conversation_id: str
    activity_id: str
    person_id: int
    card: dict[str, Any]
    prompt: dict[str, Any] | None
    created_at: datetime


def remember(
    db: Session,
    *,
    conversation_id: str,
    activity_id: str,
    person_id: int,
    card: dict[str, Any],
    prompt: dict[str, Any] | None,
    now: datetime,
) -> None:
    """A card that went out (:func:`remember_all` with one)."""
    remember_all(
        db, [SentCard(conversation_id, activity_id, person_id, card, prompt, created_at=now)]
    )


def remember_all(db: Session, cards: Sequence[SentCard]) -> None:
    """Cards that went out, in the order they were sent, in one flush. A card with a
    ``prompt`` is one of the cards asking it; the person's cards that asked something else
    (stored before, or earlier in ``cards``) no longer are."""
    asking: dict[int, list[TeamsCard]] = {}
    people = {c.person_id for c in cards if c.prompt is not None}
    if people:
        for row in db.exec(_ASKING_OF, params={"people": list(people)}):
            asking.setdefault(row.person_id, []).append(row)
    for sent in cards:
        row = TeamsCard(
            conversation_id=sent.conversation_id,
            activity_id=sent.activity_id,
            person_id=sent.person_id,
            card=sent.card,
            prompt=sent.prompt,
            asking=sent.prompt is not None,
            created_at=sent.created_at,
        )
        if sent.prompt is not None:
            for other in asking.get(sent.person_id, []):
                if other.asking and _ref(other.prompt) != _ref(sent.prompt):
                    other.asking = False
                    db.add(other)
            asking.setdefault(sent.person_id, []).append(row)
        db.add(row)
    db.flush()


_ASKING_OF = select(TeamsCard).where(
    col(TeamsCard.person_id).in_(bindparam("people", expanding=True)), col(TeamsCard.asking)
)


def find(db: Session, conversation_id: str, activity_id: str) -> TeamsCard | None:
    key = {"conversation_id": conversation_id, "activity_id": activity_id}
    return db.exec(_FIND, params=key).first()


_FIND = select(TeamsCard).where(
    col(TeamsCard.conversation_id) == bindparam("conversation_id"),
    col(TeamsCard.activity_id) == bindparam("activity_id"),
)


def settle(db: Session, conversation_id: str, activity_id: str, shown: dict[str, Any]) -> bool:
    """The card shows ``shown`` from now on, if it was not settled yet: True for the first
    settle only (the caller then updates it in the chat)."""
    return _claimed(db, _SETTLE, conversation_id, activity_id, now_shown=shown)


_SETTLE = (
    update(TeamsCard)
    .where(
        col(TeamsCard.conversation_id) == bindparam("in_conversation"),
        col(TeamsCard.activity_id) == bindparam("of_activity"),
        ~col(TeamsCard.settled),
    )
    .values(settled=True, shown=bindparam("now_shown"), asking=False)
    .returning(col(TeamsCard.id))
)


def press(
    db: Session,
    conversation_id: str,
    activity_id: str,
    shown: dict[str, Any],
    *,
    now: datetime,
    lease: timedelta,
) -> bool:
    """A press on the card: True when it is the first (it settles the card, showing ``shown``
    until :func:`finish`, and runs its turn), or when the press that settled it has not
    finished within ``lease`` (its process died). False for any other press, and for a card
    not stored."""
    lapsed = and_(col(TeamsCard.pressed_at).is_not(None), col(TeamsCard.pressed_at) <= now - lease)
    return _claimed(
        db,
        update(TeamsCard)
        .where(_key(conversation_id, activity_id), or_(~col(TeamsCard.settled), lapsed))
        .values(settled=True, shown=shown, pressed_at=now),
    )


def finish(
    db: Session, conversation_id: str, activity_id: str, shown: dict[str, Any] | None
) -> None:
    """The turn of a press has ended: the card shows ``shown`` (its question answered, or
    closed), or, with None, it is open again (the answer did not fit: asked again)."""
    if shown is None:
        db.exec(
            update(TeamsCard)
            .where(_key(conversation_id, activity_id), col(TeamsCard.pressed_at).is_not(None))
            .values(settled=False, shown=None, pressed_at=None)
        )
        return
    db.exec(
        update(TeamsCard)
        .where(_key(conversation_id, activity_id))
        .values(settled=True, shown=shown, pressed_at=None, asking=False)
    )


_ASKING = (
    select(TeamsCard)
    .where(
        col(TeamsCard.person_id) == bindparam("person_id"),
        col(TeamsCard.asking),
        ~col(TeamsCard.settled),
    )
    .order_by(col(TeamsCard.id))
)
_STOP_ASKING = (
    update(TeamsCard)
    .where(col(TeamsCard.person_id) == bindparam("of_person"), col(TeamsCard.asking))
    .values(asking=False)
)
"""Built once: every typed answer in Teams runs them, and building a statement cost more
than running it (as ``storage/sessions.py``)."""


def asking(db: Session, person_id: int) -> list[TeamsCard]:
    """The cards, not settled, that ask the person's latest question (if it may still be
    open), oldest first."""
    return list(db.exec(_ASKING, params={"person_id": person_id}))


def stop_asking(db: Session, person_id: int) -> list[TeamsCard]:
    """The person's latest question is answered (or closed): the cards that asked it and are
    not settled yet (for the caller to settle); none of their cards asks it any more (in the
    database: the rows returned still say ``asking``)."""
    found = asking(db, person_id)
    db.connection().execute(_STOP_ASKING, {"of_person": person_id})
    return found


def cards_of(db: Session, person_id: int) -> list[dict[str, Any]]:
    """The person's cards for an export: when each was sent, what it said, and what it shows."""
    rows = db.exec(
        select(TeamsCard)
        .where(TeamsCard.person_id == person_id)
        .order_by(col(TeamsCard.created_at), col(TeamsCard.id))
    )
    return [
        {
            "sent_at": row.created_at.isoformat(),
            "card": row.card,
            "settled": row.settled,
            "shown": row.shown,
        }
        for row in rows
    ]


def forget(db: Session, person_id: int) -> None:
    db.exec(delete(TeamsCard).where(col(TeamsCard.person_id) == person_id))


def prune(db: Session, *, before: datetime) -> int:
    """Delete every card sent before ``before``; how many went. A press on one later is
    settled from the question its button carries."""
    result = db.connection().execute(delete(TeamsCard).where(col(TeamsCard.created_at) < before))
    return int(result.rowcount)


def _key(conversation_id: str, activity_id: str) -> Any:
    return and_(
        col(TeamsCard.conversation_id) == conversation_id,
        col(TeamsCard.activity_id) == activity_id,
    )


def _claimed(
    db: Session,
    statement: Any,
    conversation_id: str | None = None,
    activity_id: str | None = None,
    **values: Any,
) -> bool:
    """Run an UPDATE of one card; whether it changed it (counted from ``RETURNING``, which
    every driver reports alike). A statement built once takes the card's key and ``values`` as
    parameters."""
    if conversation_id is None:
        statement = statement.returning(col(TeamsCard.id))
        rows: Sequence[Any] = db.connection().execute(statement).all()
    else:
        key = {"in_conversation": conversation_id, "of_activity": activity_id}
        rows = db.connection().execute(statement, {**key, **values}).all()
    return len(rows) == 1


def _ref(prompt: dict[str, Any] | None) -> tuple[Any, Any, Any]:
    if prompt is None:
        return None, None, None
    return prompt.get("session_id"), prompt.get("step"), prompt.get("seq")
