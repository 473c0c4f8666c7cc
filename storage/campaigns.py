"""HR campaigns in the database: the campaign, its recipients, their responses and workshop
places, and its messages in the outbox (``Outbound.campaign_id``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from storage.db import insert_if_new, insert_many_if_new
from storage.models import (
    AuditEntry,
    Campaign,
    CampaignRecipient,
    CampaignResponse,
    CampaignRsvp,
    CampaignState,
    Experiment,
    Outbound,
    OutboxState,
    Person,
    RsvpState,
)
from storage.privacy import min_group_size

UNSENT = (OutboxState.PENDING, OutboxState.FAILED, OutboxState.HELD)


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


# -- workshop places ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    state: str
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


def places_of(db: Session, campaign_id: int, person_id: int) -> dict[str, str]:
    query = select(CampaignRsvp.workshop, CampaignRsvp.state).where(
        CampaignRsvp.campaign_id == campaign_id, CampaignRsvp.person_id == person_id
    )
    return {workshop: state for workshop, state in db.exec(query)}


@dataclass(frozen=True)
class Attendee:
    person_id: int
    name: str
    email: str
    state: str
    at: datetime


def sign_up_lists(
    db: Session, campaign_id: int, *, reader_id: int | None, now: datetime
) -> dict[str, list[Attendee]]:
    """Per workshop, the people signed up and waiting, by name: for the campaign's owner only
    (the sign-up button tells people so). Each look is audited per person ("who has seen my
    data" in the privacy centre shows it)."""
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
    db.add_all(
        AuditEntry(
            at=now,
            actor_id=reader_id,
            subject_id=person_id,
            action="campaign_sign_ups",
            detail={"campaign": slug},
        )
        for person_id in {a.person_id for people in lists.values() for a in people}
    )
    return lists


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
    states: Sequence[str],
    to: str,
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


def unsent(db: Session, campaign_id: int, key_prefixes: Iterable[str]) -> list[Outbound]:
    """Messages of the given steps (``campaign:<id>:<step>:``) that have not gone out yet."""
    prefixes = tuple(key_prefixes)
    query = select(Outbound).where(
        Outbound.campaign_id == campaign_id, col(Outbound.state).in_(UNSENT)
    )
    return [row for row in db.exec(query) if row.idempotency_key.startswith(prefixes)]


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


# -- figures -------------------------------------------------------------------------------


@dataclass
class StepFigures:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    held: int = 0
    responded: int = 0
    responses: Counter[str] = field(default_factory=Counter)


@dataclass
class Figures:
    """What HR sees of a campaign: numbers. Counts of people's choices are shown only when
    at least ``k`` people are in them (see ``cell``); delivery counts are about messages."""

    k: int
    targeted: int
    reached: int
    """People who got at least one message."""
    steps: dict[str, StepFigures]
    failure_reasons: Counter[str]
    skip_reasons: Counter[str]
    responded: int
    experiments: int
    rsvps: dict[str, Counter[str]]

    def cell(self, people: int) -> str:
        """A count of people, or "<K" when it would single out fewer than K people."""
        return str(people) if people == 0 or people >= self.k else f"<{self.k}"

    @property
    def sent(self) -> int:
        return sum(step.sent for step in self.steps.values())

    @property
    def unsent(self) -> int:
        return sum(step.queued + step.failed for step in self.steps.values())


def figures(db: Session, campaign: Campaign, *, step_ids: Sequence[str], min_group: int) -> Figures:
    assert campaign.id is not None
    cid = campaign.id
    steps = {step: StepFigures() for step in step_ids}
    failures: Counter[str] = Counter()
    skips: Counter[str] = Counter()
    reached: set[int] = set()
    rows = db.exec(
        select(
            Outbound.idempotency_key, Outbound.state, Outbound.last_error, Outbound.person_id
        ).where(Outbound.campaign_id == cid)
    )
    for key, state, error, person_id in rows:
        step = steps.setdefault(key.split(":")[2], StepFigures())
        if state == OutboxState.SENT:
            step.sent += 1
            reached.add(person_id)
        elif state in (OutboxState.PENDING, OutboxState.SENDING):
            step.queued += 1
        elif state == OutboxState.HELD:
            step.held += 1
        elif state == OutboxState.SKIPPED:
            step.skipped += 1
            skips[_reason(error)] += 1
        else:
            step.failed += 1
            failures[_reason(error)] += 1
    counted = select(Person.id).where(col(Person.in_aggregates))
    responses = db.exec(
        select(CampaignResponse.step, CampaignResponse.kind, CampaignResponse.person_id)
        .where(CampaignResponse.campaign_id == cid)
        .where(col(CampaignResponse.person_id).in_(counted.scalar_subquery()))
    )
    per_step: dict[str, set[int]] = defaultdict(set)
    anyone: set[int] = set()
    for step_id, kind, person_id in responses:
        steps.setdefault(step_id, StepFigures()).responses[kind] += 1
        per_step[step_id].add(person_id)
        anyone.add(person_id)
    for step_id, people in per_step.items():
        steps[step_id].responded = len(people)
    experiments = db.exec(
        select(func.count(func.distinct(Experiment.person_id)))
        .where(Experiment.campaign_id == cid)
        .where(col(Experiment.in_aggregates))
    ).one()
    rsvps: dict[str, Counter[str]] = defaultdict(Counter)
    for workshop, state, n in db.exec(
        select(CampaignRsvp.workshop, CampaignRsvp.state, func.count())
        .where(CampaignRsvp.campaign_id == cid)
        .group_by(col(CampaignRsvp.workshop), col(CampaignRsvp.state))
    ):
        rsvps[workshop][state] = int(n)
    targeted = int(db.exec(select(func.count()).where(CampaignRecipient.campaign_id == cid)).one())
    return Figures(
        k=min_group_size(min_group),
        targeted=targeted,
        reached=len(reached),
        steps=steps,
        failure_reasons=failures,
        skip_reasons=skips,
        responded=len(anyone),
        experiments=int(experiments),
        rsvps=dict(rsvps),
    )


def _reason(error: str | None) -> str:
    return (error or "unknown").split("\n")[0][:120]
