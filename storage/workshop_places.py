"""Places at a campaign's workshops: sign up (or join the waitlist when full), give up a place
(the first person waiting moves up), who holds one (for reminders and notices, never shown to
anyone), and the lists by name for the campaign's owner."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import (
    Campaign,
    CampaignRsvp,
    Person,
    RsvpState,
)
from storage.privacy import Reader, record_reads


@dataclass(frozen=True)
class Place:
    state: RsvpState
    """going or waitlist"""
    position: int
    """On the waitlist: the place in the queue (1 = next); going: 0."""
    new: bool


def _lock(db: Session, campaign_id: int) -> None:
    """Serialise sign-ups for one campaign (PostgreSQL); SQLite has one writer anyway."""
    if db.get_bind().dialect.name == "postgresql":
        db.exec(select(Campaign.id).where(Campaign.id == campaign_id).with_for_update())


def _going(db: Session, campaign_id: int, workshop: str) -> int:
    query = select(func.count()).where(
        CampaignRsvp.campaign_id == campaign_id,
        CampaignRsvp.workshop == workshop,
        CampaignRsvp.state == RsvpState.GOING,
    )
    return int(db.exec(query).one())


def _waiting(db: Session, campaign_id: int, workshop: str) -> list[CampaignRsvp]:
    query = (
        select(CampaignRsvp)
        .where(
            CampaignRsvp.campaign_id == campaign_id,
            CampaignRsvp.workshop == workshop,
            CampaignRsvp.state == RsvpState.WAITLIST,
        )
        .order_by(col(CampaignRsvp.at), col(CampaignRsvp.id))
    )
    return list(db.exec(query))


def sign_up(
    db: Session,
    campaign_id: int,
    workshop: str,
    person_id: int,
    *,
    capacity: int | None,
    now: datetime,
) -> Place:
    """A place at the workshop, or on its waitlist when it is full (first come, first served)."""
    _lock(db, campaign_id)
    existing = db.exec(
        select(CampaignRsvp).where(
            CampaignRsvp.campaign_id == campaign_id,
            CampaignRsvp.workshop == workshop,
            CampaignRsvp.person_id == person_id,
        )
    ).first()
    if existing is not None and existing.state != RsvpState.CANCELLED:
        return Place(existing.state, _position(db, existing), new=False)
    full = capacity is not None and _going(db, campaign_id, workshop) >= capacity
    state = RsvpState.WAITLIST if full else RsvpState.GOING
    row = existing or CampaignRsvp(campaign_id=campaign_id, workshop=workshop, person_id=person_id)
    row.state, row.at = state, now
    db.add(row)
    db.flush()
    return Place(state, _position(db, row), new=True)


def _position(db: Session, row: CampaignRsvp) -> int:
    if row.state != RsvpState.WAITLIST:
        return 0
    queue = _waiting(db, row.campaign_id, row.workshop)
    return next((n for n, r in enumerate(queue, start=1) if r.id == row.id), 0)


def give_up_place(
    db: Session, campaign_id: int, workshop: str, person_id: int, *, capacity: int | None
) -> tuple[bool, int | None]:
    """Cancel someone's place (or waitlist entry). Returns (was signed up, the person who moves
    up from the waitlist into the freed place, if any)."""
    _lock(db, campaign_id)
    row = db.exec(
        select(CampaignRsvp).where(
            CampaignRsvp.campaign_id == campaign_id,
            CampaignRsvp.workshop == workshop,
            CampaignRsvp.person_id == person_id,
        )
    ).first()
    if row is None or row.state == RsvpState.CANCELLED:
        return False, None
    had_place = row.state == RsvpState.GOING
    row.state = RsvpState.CANCELLED
    db.add(row)
    db.flush()
    if not had_place:
        return True, None
    queue = _waiting(db, campaign_id, workshop)
    if queue and (capacity is None or _going(db, campaign_id, workshop) < capacity):
        queue[0].state = RsvpState.GOING
        db.add(queue[0])
        return True, queue[0].person_id
    return True, None


@dataclass(frozen=True)
class Holder:
    """Someone holding a place or waiting for one, as the bot writes to them (not a read of
    their data by another person: nothing is audited)."""

    person: Person
    state: RsvpState
    since: datetime
    """When they signed up (or joined the waitlist)."""


def holders(db: Session, campaign_id: int, workshop: str, *, waiting: bool = False) -> list[Holder]:
    """The people going to the workshop (``waiting``: and those on its waitlist)."""
    states = [RsvpState.GOING, RsvpState.WAITLIST] if waiting else [RsvpState.GOING]
    query = (
        select(CampaignRsvp, Person)
        .join(Person, col(Person.id) == CampaignRsvp.person_id)
        .where(CampaignRsvp.campaign_id == campaign_id, CampaignRsvp.workshop == workshop)
        .where(col(CampaignRsvp.state).in_(states))
        .order_by(col(CampaignRsvp.id))
    )
    return [Holder(person, rsvp.state, rsvp.at) for rsvp, person in db.exec(query)]


def holds_any(db: Session, campaign_id: int, person_id: int) -> bool:
    """Whether the person has a place at (or waits for) any of the campaign's workshops."""
    query = select(CampaignRsvp.id).where(
        CampaignRsvp.campaign_id == campaign_id,
        CampaignRsvp.person_id == person_id,
        col(CampaignRsvp.state).in_([RsvpState.GOING, RsvpState.WAITLIST]),
    )
    return db.exec(query).first() is not None


@dataclass(frozen=True)
class Attendee:
    person_id: int
    name: str
    email: str
    state: RsvpState
    at: datetime


def sign_up_lists(
    db: Session, campaign_id: int, *, reader: Reader, now: datetime
) -> dict[str, list[Attendee]]:
    """Per workshop, the people signed up and waiting, by name: for the campaign's owner only
    (the sign-up button tells people so). Each look is audited per person, with who really
    looked (the owner in chat, or an administrator at the command line): "who has seen my
    data" in the privacy centre shows it."""
    query = (
        select(CampaignRsvp, Person.name, Person.email)
        .join(Person, col(Person.id) == CampaignRsvp.person_id)
        .where(CampaignRsvp.campaign_id == campaign_id)
        .where(CampaignRsvp.state != RsvpState.CANCELLED)
        .order_by(col(CampaignRsvp.at), col(CampaignRsvp.id))
    )
    lists: dict[str, list[Attendee]] = defaultdict(list)
    for rsvp, name, email in db.exec(query):
        lists[rsvp.workshop].append(Attendee(rsvp.person_id, name, email, rsvp.state, rsvp.at))
    slug = db.exec(select(Campaign.slug).where(Campaign.id == campaign_id)).one()
    record_reads(
        db,
        reader=reader,
        subjects={a.person_id for people in lists.values() for a in people},
        at=now,
        action="campaign_sign_ups",
        detail={"campaign": slug, "what": "sign_ups"},
    )
    return lists
