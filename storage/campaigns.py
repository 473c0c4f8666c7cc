"""HR campaigns in the database: the campaign, its recipients, their responses, and its
messages in the outbox (``Outbound.campaign_id`` and ``campaign_step``). Workshop places:
``workshop_places``; figures: ``campaign_figures``."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from storage.db import insert_if_new, insert_many_if_new
from storage.models import (
    Campaign,
    CampaignRecipient,
    CampaignResponse,
    CampaignRsvp,
    CampaignState,
    Outbound,
    OutboxState,
)

UNSENT = (OutboxState.PENDING, OutboxState.FAILED, OutboxState.HELD)
STOPPED = "not for me"
"""The skip note of a step not sent to someone who said the campaign is not for them."""


def by_slug(db: Session, slug: str) -> Campaign | None:
    return db.exec(select(Campaign).where(Campaign.slug == slug)).first()


def find(db: Session, ref: str) -> Campaign | None:
    """A campaign by its id from the file (``growth-week-2026``) or its number."""
    found = by_slug(db, ref)
    if found is None and ref.isdigit():
        found = db.get(Campaign, int(ref))
    return found


def running(db: Session) -> list[Campaign]:
    return list(db.exec(select(Campaign).where(Campaign.state == CampaignState.RUNNING)))


def listing(db: Session) -> list[Campaign]:
    return list(db.exec(select(Campaign).order_by(col(Campaign.launched_at).desc())))


def add_recipients(db: Session, campaign_id: int, person_ids: Iterable[int], now: datetime) -> int:
    rows = [{"campaign_id": campaign_id, "person_id": pid, "added_at": now} for pid in person_ids]
    return insert_many_if_new(db, CampaignRecipient, unique=("campaign_id", "person_id"), rows=rows)


def recipient_ids(db: Session, campaign_id: int) -> set[int]:
    query = select(CampaignRecipient.person_id).where(CampaignRecipient.campaign_id == campaign_id)
    return set(db.exec(query))


def is_recipient(db: Session, campaign_id: int, person_id: int) -> bool:
    query = select(CampaignRecipient.id).where(
        CampaignRecipient.campaign_id == campaign_id, CampaignRecipient.person_id == person_id
    )
    return db.exec(query).first() is not None


def stopped(db: Session, campaign_id: int) -> set[int]:
    """Recipients who said the campaign is not for them."""
    query = select(CampaignRecipient.person_id).where(
        CampaignRecipient.campaign_id == campaign_id,
        col(CampaignRecipient.stopped_at).is_not(None),
    )
    return set(db.exec(query))


def stop(
    db: Session, campaign_id: int, person_id: int, *, steps: Iterable[str], now: datetime
) -> int:
    """The campaign is not for this person: its ``steps`` not sent yet are skipped (noted
    :data:`STOPPED`) and later ones are not sent to them. Returns how many were waiting."""
    db.exec(
        update(CampaignRecipient)
        .where(col(CampaignRecipient.campaign_id) == campaign_id)
        .where(col(CampaignRecipient.person_id) == person_id)
        .where(col(CampaignRecipient.stopped_at).is_(None))
        .values(stopped_at=now)
    )
    statement = (
        update(Outbound)
        .where(col(Outbound.campaign_id) == campaign_id)
        .where(col(Outbound.person_id) == person_id)
        .where(col(Outbound.campaign_step).in_(list(steps)))
        .where(col(Outbound.state).in_(UNSENT))
        .values(state=OutboxState.SKIPPED, last_error=STOPPED)
    )
    return int(db.connection().execute(statement).rowcount)


def restart(db: Session, campaign_id: int, person_id: int, *, now: datetime) -> int:
    """Undo :func:`stop`: the campaign's messages for this person go on; those skipped by
    the stop whose moment is still ahead wait again. Returns how many."""
    db.exec(
        update(CampaignRecipient)
        .where(col(CampaignRecipient.campaign_id) == campaign_id)
        .where(col(CampaignRecipient.person_id) == person_id)
        .values(stopped_at=None)
    )
    statement = (
        update(Outbound)
        .where(col(Outbound.campaign_id) == campaign_id)
        .where(col(Outbound.person_id) == person_id)
        .where(col(Outbound.state) == OutboxState.SKIPPED)
        .where(col(Outbound.last_error) == STOPPED)
        .where(col(Outbound.not_before) > now)
        .values(state=OutboxState.PENDING, last_error=None)
    )
    return int(db.connection().execute(statement).rowcount)


def sent_keys(db: Session, campaign_id: int) -> set[str]:
    """Idempotency keys of every message of the campaign in the outbox (in any state)."""
    query = select(Outbound.idempotency_key).where(Outbound.campaign_id == campaign_id)
    return set(db.exec(query))


def respond(
    db: Session, campaign_id: int, step: str, person_id: int, kind: str, now: datetime
) -> bool:
    """Record a button press; True the first time (pressing twice counts once)."""
    return insert_if_new(
        db,
        CampaignResponse,
        unique=("campaign_id", "step", "person_id", "kind"),
        campaign_id=campaign_id,
        step=step,
        person_id=person_id,
        kind=kind,
        at=now,
    )


def responders(db: Session, campaign_id: int) -> dict[str, set[int]]:
    """Per step: who pressed any of its buttons."""
    found: dict[str, set[int]] = defaultdict(set)
    query = select(CampaignResponse.step, CampaignResponse.person_id).where(
        CampaignResponse.campaign_id == campaign_id
    )
    for step, person_id in db.exec(query):
        found[step].add(person_id)
    return found


# -- its messages in the outbox ------------------------------------------------------------


def hold(db: Session, campaign_id: int) -> int:
    """Pause: messages not yet sent wait (``held``) instead of going out."""
    return _move(db, campaign_id, (OutboxState.PENDING, OutboxState.FAILED), OutboxState.HELD)


def held(db: Session, campaign_id: int) -> list[Outbound]:
    query = select(Outbound).where(
        Outbound.campaign_id == campaign_id, Outbound.state == OutboxState.HELD
    )
    return list(db.exec(query))


def drop_unsent(
    db: Session, *, reason: str, campaign_id: int | None = None, person_id: int | None = None
) -> int:
    """Campaign messages not yet sent are skipped with ``reason`` (a cancelled campaign, or a
    person who opted out of campaigns); sent ones stay as they were."""
    return _move(db, campaign_id, UNSENT, OutboxState.SKIPPED, reason=reason, person_id=person_id)


def _move(
    db: Session,
    campaign_id: int | None,
    states: Sequence[OutboxState],
    to: OutboxState,
    *,
    reason: str | None = None,
    person_id: int | None = None,
) -> int:
    statement = update(Outbound).where(col(Outbound.state).in_(states))
    if campaign_id is None:
        statement = statement.where(col(Outbound.campaign_id).is_not(None))
    else:
        statement = statement.where(col(Outbound.campaign_id) == campaign_id)
    if person_id is not None:
        statement = statement.where(col(Outbound.person_id) == person_id)
    values: dict[str, Any] = {"state": to}
    if reason is not None:
        values["last_error"] = reason
    result = db.connection().execute(statement.values(**values))
    return int(result.rowcount)


def unsent(db: Session, campaign_id: int, steps: Iterable[str]) -> list[Outbound]:
    """Messages of the given steps that have not gone out yet."""
    wanted = list(steps)
    if not wanted:
        return []
    query = select(Outbound).where(
        Outbound.campaign_id == campaign_id,
        col(Outbound.campaign_step).in_(wanted),
        col(Outbound.state).in_(UNSENT),
    )
    return list(db.exec(query))


def due_and_sent(db: Session, campaign_id: int, *, now: datetime) -> tuple[int, int]:
    """Messages due by ``now`` (not skipped) and how many of those went out: progress."""
    rows = db.exec(
        select(Outbound.state, func.count())
        .where(Outbound.campaign_id == campaign_id)
        .where(col(Outbound.not_before) <= now)
        .where(col(Outbound.state) != OutboxState.SKIPPED)
        .group_by(col(Outbound.state))
    )
    counts = {str(state): int(n) for state, n in rows}
    return sum(counts.values()), counts.get(OutboxState.SENT, 0)


# -- one person's rows (export and forgetting) -----------------------------------------------

FORGOTTEN = "forgotten@invalid"
"""What a forgotten person's e-mail becomes in a stored campaign file (its owner, or an
audience's ``emails`` list): an address nobody has, so the audience stays what it was."""


def rows_of(db: Session, person_id: int) -> dict[str, list[Any]]:
    """Everything campaigns hold about one person: being in an audience, their button
    presses and their workshop places (for ``export_person``)."""
    found: dict[str, list[Any]] = {}
    for name, model in (
        ("campaign_recipient", CampaignRecipient),
        ("campaign_response", CampaignResponse),
        ("campaign_rsvp", CampaignRsvp),
    ):
        query = select(model).where(model.person_id == person_id).order_by(col(model.id))
        found[name] = list(db.exec(query))
    return found


def forget(db: Session, person_id: int, email: str) -> None:
    """Delete the person's campaign rows (audiences, button presses, workshop places — a
    freed place stays free for the next sign-up) and their e-mail from stored campaign
    files."""
    for model in (CampaignRecipient, CampaignResponse, CampaignRsvp):
        db.exec(delete(model).where(col(model.person_id) == person_id))
    address = email.strip().lower()
    for campaign in db.exec(select(Campaign)):
        spec = without_address(campaign.spec, address)
        if spec != campaign.spec:
            campaign.spec = spec
            db.add(campaign)
    db.exec(update(Campaign).where(col(Campaign.owner_id) == person_id).values(owner_id=None))


def without_address(value: Any, address: str) -> Any:
    """The stored file with ``address`` replaced wherever it appears."""
    if isinstance(value, str):
        return re.sub(re.escape(address), FORGOTTEN, value, flags=re.IGNORECASE)
    if isinstance(value, list):
        return [without_address(item, address) for item in value]
    if isinstance(value, dict):
        return {key: without_address(item, address) for key, item in value.items()}
    return value
