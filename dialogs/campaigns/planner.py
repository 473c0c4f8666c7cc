"""HR campaigns: who a campaign reaches and when each step is due for each person.

Every message goes through the outbox as an ``OutboxMessage`` carrying its campaign and step,
with the key ``campaign:<slug>:<step>:<person>``, so launching twice, a job that runs twice or
a restart never doubles a message. A step goes out at
each recipient's own local time on their next working day, or, timed by a workshop, at one
instant for everyone (``dialogs/campaigns/timing.py``, which also keeps a message about a
workshop from arriving after it starts); it is written to the outbox up to a day ahead (so
status shows what is queued) — except a step for people who did or did not respond to an
earlier one, which is decided only when it is due, when the responses are in. Someone who said
"not for me" to the campaign gets none of its later steps (each written as skipped, counted);
attendee reminders come from ``dialogs/campaigns/care.py``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from dialogs.campaigns import care, timing
from dialogs.campaigns.messages import (
    KIND,
    NAME,
    colleague_stories,
    language_of,
    message_key,
    render,
    with_stories,
)
from dialogs.campaigns.pulse import close_due, is_over
from dialogs.campaigns.spec import EARLIER, RESPONDED, CampaignSpec, Step, Workshop, from_stored
from dialogs.engine.calendar import NudgePolicy, is_working_day
from dialogs.engine.calendar import local_instant as at_local
from dialogs.engine.content import Content
from dialogs.engine.replies import reply_to_dict
from dialogs.nudges.rules import LATEST_LOCAL_HOUR
from storage import campaigns as stored
from storage.models import Campaign, Person, Story
from storage.outbox import OutboxMessage
from storage.people import first_name

LOOKAHEAD = timedelta(hours=24)
"""Steps for everyone are queued this far ahead; response-dependent ones only when due."""


# -- the audience ------------------------------------------------------------------------------


def audience(db: Session, spec: CampaignSpec) -> list[Person]:
    """Everyone the campaign's audience filters select (opted-out people included: counted)."""
    a = spec.audience
    query = select(Person)
    for column, wanted, unwanted in (
        (col(Person.department), a.departments, a.exclude_departments),
        (col(Person.role), a.roles, a.exclude_roles),
        (func.upper(Person.country), a.countries, a.exclude_countries),
        (func.lower(Person.email), a.emails, a.exclude_emails),
    ):
        if wanted:
            query = query.where(column.in_(wanted))
        if unwanted:
            query = query.where(column.not_in(unwanted))
    if a.started_after:
        query = query.where(col(Person.start_date) >= a.started_after)
    if a.started_before:
        query = query.where(col(Person.start_date) <= a.started_before)
    if spec.start is None:  # follows start dates: only people who have one
        query = query.where(col(Person.start_date).is_not(None))
    return list(db.exec(query.order_by(col(Person.id))))


def planned_at(
    spec: CampaignSpec, step: Step, person: Person, policy: NudgePolicy
) -> datetime | None:
    """When ``step`` is planned to reach ``person``: its day (moved to their next working day)
    at the step's time in their own time zone, or its moment before its workshop; None when
    the campaign follows start dates and the person has none."""
    fixed = timing.anchored(spec, step, person.timezone)
    if fixed is not None:
        return fixed
    day0 = spec.start or person.start_date
    if day0 is None:
        return None
    return _moment(
        day0, step.day, person.country or policy.country, step.time or policy.time, person.timezone
    )


def send_at(
    spec: CampaignSpec,
    step: Step,
    person: Person,
    policy: NudgePolicy,
    *,
    now: datetime | None = None,
) -> datetime | None:
    """When ``step`` reaches ``person``: :func:`planned_at`, moved earlier when it would come
    after its workshop starts and the step allows that; None when it does not go to them
    (``now``: when it is asked, if a late message would go now)."""
    at = planned_at(spec, step, person, policy)
    if at is None:
        return None
    country = person.country or policy.country
    checked = timing.in_time(spec, step, at, now=now or at, zone=person.timezone, country=country)
    return None if checked.skip else checked.at


@cache
def _moment(day0: date, days: int, country: str, clock: str, zone: str) -> datetime:
    day = day0 + timedelta(days=days)
    while not is_working_day(day, country):
        day += timedelta(days=1)
    return at_local(day, clock, zone)


# -- what is due -----------------------------------------------------------------------------


def due_messages(
    db: Session,
    content: Content,
    *,
    now: datetime,
    policy: NudgePolicy,
    only: Campaign | None = None,
) -> list[OutboxMessage]:
    """Every campaign message to write to the outbox at ``now`` (for running campaigns, or
    just ``only``). Campaigns that follow start dates take in new starters first."""
    found: list[OutboxMessage] = []
    if only is None:
        close_due(db, now=now)  # a pulse past its last day: nothing links people to answers
    campaigns = [only] if only is not None else stored.running(db)
    for campaign in campaigns:
        assert campaign.id is not None
        spec = from_stored(campaign.spec)
        if is_over(db, campaign, spec, now):
            continue
        if spec.start is None:
            _take_in_starters(db, campaign, spec, now)
        found += due_for(db, content, campaign, spec, now, policy)
        found += care.due_reminders(db, content, campaign, spec, now=now)
    return found


def due_for(
    db: Session,
    content: Content,
    campaign: Campaign,
    spec: CampaignSpec,
    now: datetime,
    policy: NudgePolicy,
    people: list[Person] | None = None,
) -> list[OutboxMessage]:
    """``people``: the recipients when the caller has them (a first launch), else read."""
    assert campaign.id is not None
    if people is None:
        people = people_by_id(db, stored.recipient_ids(db, campaign.id))
    if not people:
        return []
    keys = stored.sent_keys(db, campaign.id)
    answered = stored.responders(db, campaign.id)
    stopped = stored.stopped(db, campaign.id)
    local_now: dict[str, datetime] = {}
    rendered: dict[tuple[str, str, str, datetime], list[dict[str, Any]]] = {}
    told: dict[str, list[tuple[Story, Person | None]]] = {}
    found: list[OutboxMessage] = []

    def payload(step: Step, who: _Recipient, at: datetime) -> list[dict[str, Any]]:
        """Rendered once per step, language, time zone and moment; only the first name
        differs."""
        shared = (step.id, who.language, who.zone, at)
        if shared not in rendered:
            replies = render(
                content,
                spec,
                campaign.id or 0,
                step,
                lang=who.language,
                zone=who.zone,
                first_name=NAME,
                at=max(at, now),
            )
            if step.id not in told:  # read once per step, when its messages are queued
                told[step.id] = colleague_stories(db, step)
            parts = [reply_to_dict(r) for r in replies]
            rendered[shared] = with_stories(parts, content, who.language, told[step.id])
        first, *rest = rendered[shared]
        return [{**first, "text": first["text"].replace(NAME, who.first_name)}, *rest]

    recipients = [_Recipient.of(person, spec, policy) for person in people]
    for step in spec.steps:
        if spec.start is not None and _outside_window(spec.start, step, now, policy):
            continue
        workshops = timing.workshops_of(spec, step) if step.invites_to else []
        deadline = max((w.starts for w in workshops), default=None)
        moments: dict[tuple[str, str, date | None], tuple[datetime, timing.Timing | None] | None]
        moments = {}  # the same for everyone in one zone and country starting the same day
        for who in recipients:
            key = message_key(spec.id, step.id, who.id)
            if key in keys:
                continue
            alike = (who.zone, who.country, spec.start or who.start_date)
            if alike not in moments:
                moments[alike] = _timed(spec, step, who, now, policy, workshops, local_now)
            if (timed := moments[alike]) is None:
                continue
            at, checked = timed
            if step.only is not None:
                kind, earlier = step.only
                did = who.id in answered.get(earlier, set())
                if (kind == RESPONDED) != did:
                    continue
            skip = _skip_reason(who.person, at, stopped)
            if skip is None and checked is not None:
                skip = checked.skip
            found.append(
                OutboxMessage(
                    key,
                    who.id,
                    KIND,
                    at,
                    [] if skip else payload(step, who, at),
                    skipped=skip is not None,
                    note=skip,
                    campaign_id=campaign.id,
                    campaign_step=step.id,
                    not_after=deadline,
                )
            )
    return found


def _timed(
    spec: CampaignSpec,
    step: Step,
    who: _Recipient,
    now: datetime,
    policy: NudgePolicy,
    workshops: list[Workshop],
    local_now: dict[str, datetime],
) -> tuple[datetime, timing.Timing | None] | None:
    """When ``step`` reaches ``who`` (with its check against its ``workshops``), or None when
    it is not to be queued now: the same for everyone in their zone and country who starts on
    their day."""
    at = timing.anchored(spec, step, who.zone) if step.workshop else None
    if at is None:
        day0 = spec.start or who.start_date
        if day0 is None:
            return None
        at = _moment(day0, step.day, who.country, step.time or policy.time, who.zone)
    checked = None
    if step.invites_to:
        checked = timing.in_time(
            spec, step, at, now=now, zone=who.zone, country=who.country, workshops=workshops
        )
        at = checked.at
    if who.zone not in local_now:
        local_now[who.zone] = now.astimezone(ZoneInfo(who.zone))
    return (at, checked) if _ready(step, at, now, local_now[who.zone], policy) else None


@dataclass(frozen=True, slots=True)
class _Recipient:
    """What the scheduling loop needs of a person, read once (not per step)."""

    person: Person
    id: int
    language: str
    zone: str
    country: str
    start_date: date | None
    first_name: str

    @classmethod
    def of(cls, person: Person, spec: CampaignSpec, policy: NudgePolicy) -> _Recipient:
        assert person.id is not None
        return cls(
            person,
            person.id,
            language_of(spec, person),
            person.timezone,
            person.country or policy.country,
            person.start_date,
            first_name(person.name),
        )


def _outside_window(start: date, step: Step, now: datetime, policy: NudgePolicy) -> bool:
    """A cheap test that a dated step cannot be due (days away, or long past) for anyone."""
    day = start + timedelta(days=step.day)
    earliest = datetime.combine(day, datetime.min.time(), tzinfo=now.tzinfo) - timedelta(days=1)
    if step.too_late == EARLIER:  # may go on an earlier working day
        earliest -= timedelta(days=timing.EARLIER_DAYS)
    latest = earliest + timedelta(days=16) + policy.grace  # holidays and time zones
    return earliest > now + LOOKAHEAD or latest < now


def _ready(
    step: Step, at: datetime, now: datetime, local_now: datetime, policy: NudgePolicy
) -> bool:
    if at > now:  # in the future: queue it ahead, unless it depends on responses
        return step.only is None and at <= now + LOOKAHEAD
    if now - at > policy.grace:
        return False  # missed (the service was down for long): not sent days late
    return local_now.hour < LATEST_LOCAL_HOUR


def _skip_reason(person: Person, at: datetime, stopped: set[int]) -> str | None:
    if person.campaigns_opt_out:
        return "opted out of campaigns"
    if person.id in stopped:
        return stored.STOPPED
    if person.nudge_paused_until is None:
        return None
    if person.nudge_paused_until >= at.astimezone(ZoneInfo(person.timezone)).date():
        return "paused nudges"
    return None


def people_by_id(db: Session, ids: Iterable[int]) -> list[Person]:
    wanted = sorted(ids)
    people: list[Person] = []
    for start in range(0, len(wanted), 5000):  # stay under the databases' parameter limits
        chunk = wanted[start : start + 5000]
        people += db.exec(select(Person).where(col(Person.id).in_(chunk)))
    return people


def _take_in_starters(db: Session, campaign: Campaign, spec: CampaignSpec, now: datetime) -> int:
    """New starters who match the audience join an onboarding campaign while it runs."""
    assert campaign.id is not None
    earliest = now.date() - timedelta(days=spec.last_day + 1)
    fresh = [
        p.id
        for p in audience(db, spec)
        if p.id is not None
        and not p.campaigns_opt_out
        and p.start_date is not None
        and p.start_date >= earliest
    ]
    return stored.add_recipients(db, campaign.id, fresh, now)
