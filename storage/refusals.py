"""Attempts to read someone else's data that were refused (a page of another person opened
by someone who may not see it): audited like a read, so the person concerned sees the attempt
under "who has seen my data" and an administrator can find it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.models import AuditEntry

REFUSED_READ = "refused_read"
"""The audit action of a refused attempt (``detail``: ``where`` it was tried)."""


def record_refused(
    db: Session, *, actor_id: int, subject_id: int | None, at: datetime, where: str
) -> None:
    """``actor_id`` tried to see ``subject_id``'s data at ``where`` and was refused. The entry
    goes when the subject is forgotten (like every entry about them); when the actor is
    forgotten it keeps the event without them."""
    db.add(
        AuditEntry(
            at=at,
            actor_id=actor_id,
            subject_id=subject_id,
            action=REFUSED_READ,
            detail={"where": where},
        )
    )
