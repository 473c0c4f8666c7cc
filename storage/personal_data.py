"""Export and deletion of everything Regie holds about one person (the right of access and
the right to be forgotten). Deletion keeps only the fact that a deletion happened."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import Session, SQLModel, col, select

from storage.models import (
    PERSONAL_ITEM_TYPES,
    AuditEntry,
    ChannelAddress,
    ConsentRecord,
    DialogSession,
    Person,
    table_name,
    utcnow,
)

EXPORT_FORMAT = 1


def _plain(row: SQLModel) -> dict[str, Any]:
    data = row.model_dump()
    return {key: _json(value) for key, value in data.items()}


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def export_person(db: Session, person: Person) -> dict[str, Any]:
    """All of the person's data as JSON-ready dicts, including who has read it."""
    assert person.id is not None
    manager = db.get(Person, person.manager_id) if person.manager_id else None
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": utcnow().isoformat(),
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
    audit = db.exec(
        select(AuditEntry)
        .where(or_(col(AuditEntry.subject_id) == person.id, col(AuditEntry.actor_id) == person.id))
        .order_by(col(AuditEntry.id))
    )
    data["audit_entry"] = [_plain(r) for r in audit]
    return data


def forget_person(db: Session, person: Person, *, by: str = "self") -> None:
    """Delete the person and everything of theirs. Audit entries about them go too; entries
    where they read someone else's data keep the event but lose who it was."""
    person_id = person.id
    assert person_id is not None
    for item_type in PERSONAL_ITEM_TYPES:
        db.exec(delete(item_type).where(col(item_type.person_id) == person_id))
    db.exec(delete(ConsentRecord).where(col(ConsentRecord.person_id) == person_id))
    db.exec(delete(DialogSession).where(col(DialogSession.person_id) == person_id))
    db.exec(delete(ChannelAddress).where(col(ChannelAddress.person_id) == person_id))
    db.exec(delete(AuditEntry).where(col(AuditEntry.subject_id) == person_id))
    db.exec(
        update(AuditEntry)
        .where(col(AuditEntry.actor_id) == person_id)
        .values(actor_id=None, detail={})
    )
    db.exec(update(Person).where(col(Person.manager_id) == person_id).values(manager_id=None))
    db.delete(person)
    db.flush()
    db.add(AuditEntry(action="person_deleted", detail={"by": by}))
