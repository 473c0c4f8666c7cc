"""Inbound de-duplication: claim a platform id once, in the same transaction as the turn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from storage.models import ProcessedInbound


def claim(db: Session, inbound_id: str, *, now: datetime) -> bool:
    """True the first time ``inbound_id`` is seen; False for a redelivery. One statement
    (``INSERT … ON CONFLICT DO NOTHING``), so the hot path pays no extra round trip."""
    dialect = sqlite if db.get_bind().dialect.name == "sqlite" else postgresql
    statement = (
        dialect.insert(ProcessedInbound)
        .values(inbound_id=inbound_id, processed_at=now)
        .on_conflict_do_nothing(index_elements=["inbound_id"])
    )
    return bool(db.connection().execute(statement).rowcount == 1)
