"""Consents a person gave or withdrew, kept as history (``consent_record``): the latest record
of a kind is what holds now."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import ConsentKind, ConsentRecord


def current_consent(db: Session, person_id: int, kind: ConsentKind) -> bool | None:
    """The person's latest answer for ``kind``; None when they were never asked."""
    return db.exec(
        select(ConsentRecord.granted)
        .where(ConsentRecord.person_id == person_id, ConsentRecord.kind == kind)
        .order_by(col(ConsentRecord.at).desc(), col(ConsentRecord.id).desc())
    ).first()


def consented(db: Session, person_ids: list[int], kind: ConsentKind) -> set[int]:
    """Of ``person_ids``, those whose latest answer for ``kind`` is yes."""
    if not person_ids:
        return set()
    rows = db.exec(
        select(ConsentRecord.person_id, ConsentRecord.granted)
        .where(col(ConsentRecord.person_id).in_(person_ids), ConsentRecord.kind == kind)
        .order_by(col(ConsentRecord.at), col(ConsentRecord.id))
    )
    latest: dict[int, bool] = {}
    for person_id, granted in rows:
        latest[person_id] = granted
    return {person_id for person_id, granted in latest.items() if granted}


def record_consent(
    db: Session, person_id: int, kind: ConsentKind, *, granted: bool, now: datetime
) -> ConsentRecord:
    record = ConsentRecord(person_id=person_id, kind=kind, granted=granted, at=now)
    db.add(record)
    db.flush()
    return record
