"""Stored channel addresses (e.g. a Teams conversation reference) for proactive messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from storage.models import ChannelAddress


def address_of(db: Session, person_id: int, channel: str) -> dict[str, Any] | None:
    row = db.exec(
        select(ChannelAddress).where(
            ChannelAddress.person_id == person_id, ChannelAddress.channel == channel
        )
    ).first()
    return dict(row.address) if row is not None else None


def people_with_address(db: Session, channel: str) -> set[int]:
    """Everyone who can be written to on ``channel`` without writing first."""
    query = select(ChannelAddress.person_id).where(ChannelAddress.channel == channel)
    return set(db.exec(query))


def save_address(
    db: Session, person_id: int, channel: str, address: dict[str, Any], *, now: datetime
) -> None:
    row = db.exec(
        select(ChannelAddress).where(
            ChannelAddress.person_id == person_id, ChannelAddress.channel == channel
        )
    ).first()
    if row is None:
        row = ChannelAddress(person_id=person_id, channel=channel, address=address, updated_at=now)
    elif row.address != address:
        row.address = dict(address)
        row.updated_at = now
    else:
        return
    db.add(row)


def forget_address(db: Session, person_id: int, channel: str) -> None:
    row = db.exec(
        select(ChannelAddress).where(
            ChannelAddress.person_id == person_id, ChannelAddress.channel == channel
        )
    ).first()
    if row is not None:
        db.delete(row)
