"""Inbound de-duplication: claim a platform id once, in the same transaction as the turn."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from storage.db import insert_if_new
from storage.models import ProcessedInbound


def claim(db: Session, inbound_id: str, *, now: datetime) -> bool:
    """True the first time ``inbound_id`` is seen; False for a redelivery. One statement
    (``INSERT … ON CONFLICT DO NOTHING``), so the hot path pays no extra round trip."""
    return insert_if_new(
        db, ProcessedInbound, unique="inbound_id", inbound_id=inbound_id, processed_at=now
    )
