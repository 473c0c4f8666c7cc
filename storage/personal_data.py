"""Export and deletion of everything Regie holds about one person (the right of access and
the right to be forgotten), and the retention of personal items.

Deletion removes every copy of the person's text: their items, conversations, consents,
addresses, their own messages in the outbox (sent or not), their campaign rows, and the parts
of other people's messages that show their data (their section of their manager's digests).
What remains is one ``person_deleted`` audit entry. On SQLite, deleted rows are overwritten
with zeros (``PRAGMA secure_delete``, set on every connection by ``storage.db``) and
:func:`scrub` empties the write-ahead log, so nothing is left in the database file either.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, text, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, col, select

from storage import (
    campaign_guardrails,
    campaigns,
    conversations,
    feedback,
    links,
    pulse,
    stories,
    teams_cards,
    web_sessions,
)
from storage.models import (
    PERSONAL_ITEM_TYPES,
    AuditEntry,
    ChannelAddress,
    ConsentRecord,
    DialogSession,
    Outbound,
    Person,
    table_name,
    utcnow,
)
from storage.outbox import redact_about
from storage.privacy import ADMIN_READ, Reader

EXPORT_FORMAT = 2
"""2: with the person's messages in the outbox and their campaign rows."""
TEXT_FIELDS = ("text", "title", "why", "learned", "keep_doing", "next_step", "takeaway")
"""The free-text columns of personal items (what a legacy digest may quote)."""


def _plain(row: SQLModel) -> dict[str, Any]:
    data = row.model_dump()
    return {key: _json(value) for key, value in data.items()}


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_person(
    db: Session, person: Person, *, reader: Reader | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """All of the person's data as JSON-ready dicts, including who has read it. ``reader``:
    someone other than the person exports it (an administrator at the command line): audited
    first, so the export shows it too."""
    assert person.id is not None
    if reader is not None:
        db.add(
            AuditEntry(
                at=now or utcnow(),
                actor_id=reader.person_id,
                subject_id=person.id,
                action=ADMIN_READ if reader.operator is not None else "export",
                detail=reader.detail() | {"what": "export"},
            )
        )
        db.flush()
    manager = db.get(Person, person.manager_id) if person.manager_id else None
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": (now or utcnow()).isoformat(),
        "person": _plain(person) | {"manager_email": manager.email if manager else None},
    }
    for item_type in PERSONAL_ITEM_TYPES:
        items = db.exec(
            select(item_type).where(item_type.person_id == person.id).order_by(col(item_type.id))
        )
        data[table_name(item_type)] = [_plain(r) for r in items]
    consents = db.exec(select(ConsentRecord).where(ConsentRecord.person_id == person.id))
    data["consent_record"] = [_plain(r) for r in consents]
    sessions = db.exec(select(DialogSession).where(DialogSession.person_id == person.id))
    data["dialog_session"] = [_plain(r) for r in sessions]
    addresses = db.exec(select(ChannelAddress).where(ChannelAddress.person_id == person.id))
    data["channel_address"] = [_plain(r) for r in addresses]
    messages = db.exec(
        select(Outbound).where(Outbound.person_id == person.id).order_by(col(Outbound.id))
    )
    data["outbound"] = [_plain(r) for r in messages]
    for name, rows in (feedback.rows_of(db, person.id) | stories.rows_of(db, person.id)).items():
        data[name] = [_plain(r) for r in rows]
    for name, rows in (
        campaigns.rows_of(db, person.id) | campaign_guardrails.rows_of(db, person.id)
    ).items():
        data[name] = [_plain(r) for r in rows]
    data["one_time_link"] = links.links_of(db, person.id)
    data["web_session"] = web_sessions.sessions_of(db, person.id)
    data["teams_card"] = teams_cards.cards_of(db, person.id)
    data |= conversations.rows_of(db, person.id)
    data |= pulse.rows_of(db, person.id)  # answers to pulses still open
    audit = db.exec(
        select(AuditEntry)
        .where(or_(col(AuditEntry.subject_id) == person.id, col(AuditEntry.actor_id) == person.id))
        .order_by(col(AuditEntry.id))
    )
    data["audit_entry"] = [_plain(r) for r in audit]
    return data


def _traces(db: Session, person: Person) -> list[str]:
    """The person's name, e-mail and texts: how a digest queued before its parts were
    labelled (``storage.outbox.ABOUT``) is recognised to quote them."""
    found = [person.name, person.email]
    for item_type in PERSONAL_ITEM_TYPES:
        for item in db.exec(select(item_type).where(item_type.person_id == person.id)):
            found += [str(getattr(item, f)) for f in TEXT_FIELDS if getattr(item, f, None)]
    return found


def forget_person(
    db: Session, person: Person, *, by: str = "self", operator: str | None = None
) -> None:
    """Delete the person and every copy of their data (see the module's docstring). Audit
    entries about them go too; entries where they read someone else's data keep the event but
    lose who it was. ``by``: ``self`` or ``admin``; ``operator``: the administrator's name."""
    person_id = person.id
    assert person_id is not None
    redact_about(db, person_id, traces=_traces(db, person))
    for item_type in PERSONAL_ITEM_TYPES:
        db.exec(delete(item_type).where(col(item_type.person_id) == person_id))
    db.exec(delete(ConsentRecord).where(col(ConsentRecord.person_id) == person_id))
    db.exec(delete(DialogSession).where(col(DialogSession.person_id) == person_id))
    db.exec(delete(ChannelAddress).where(col(ChannelAddress.person_id) == person_id))
    db.exec(delete(Outbound).where(col(Outbound.person_id) == person_id))
    pulse.forget(db, person_id)  # before campaigns: answers of pulses still open
    campaigns.forget(db, person_id, person.email)
    feedback.forget(db, person_id)
    stories.forget(db, person_id, now=utcnow())
    campaign_guardrails.forget(db, person_id, person.email)
    links.forget(db, person_id)
    web_sessions.forget(db, person_id)
    teams_cards.forget(db, person_id)
    conversations.forget(db, person_id)
    db.exec(delete(AuditEntry).where(col(AuditEntry.subject_id) == person_id))
    db.exec(
        update(AuditEntry)
        .where(col(AuditEntry.actor_id) == person_id)
        .values(actor_id=None, detail={})
    )
    db.exec(update(Person).where(col(Person.manager_id) == person_id).values(manager_id=None))
    db.delete(person)
    db.flush()
    detail: dict[str, Any] = {"by": by} | ({"operator": operator} if operator else {})
    db.add(AuditEntry(action="person_deleted", detail=detail))


def scrub(engine: Engine) -> None:
    """After a deletion has been committed: on SQLite, move the write-ahead log into the
    database file and empty it (``wal_checkpoint(TRUNCATE)``), so no copy of deleted rows is
    left in ``regie.db-wal``. PostgreSQL keeps dead rows until (auto)vacuum reclaims them;
    they are invisible to every query meanwhile."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
