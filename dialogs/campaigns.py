"""HR campaigns: who a campaign reaches, what each person receives and when, and launching,
editing, pausing and cancelling one.

Every message goes through the outbox with the key ``campaign:<id>:<step>:<person>``, so
launching twice, a job that runs twice or a restart never doubles a message. A step goes out at
each recipient's own local time on their next working day; it is written to the outbox up to a
day ahead (so status shows what is queued) — except a step for people who did or did not respond
to an earlier one, which is decided only when it is due, when the responses are in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from dialogs.campaign_spec import RESPONDED, CampaignSpec, Step, fill, from_stored
from dialogs.content import Content
from dialogs.nudges import LATEST_LOCAL_HOUR, Nudge, NudgePolicy, enqueue_all, is_working_day
from dialogs.nudges import local_instant as at_local
from dialogs.replies import Offer, Reply, reply_to_dict
from dialogs.text import shorten
from storage import campaigns as stored
from storage.models import Campaign, CampaignState, Person

KIND = "campaign"
_NAME = "\x00first-name\x00"
"""Stands for the first name in a message rendered once for many people."""
INTENT = "campaign"
LOOKAHEAD = timedelta(hours=24)
"""Steps for everyone are queued this far ahead; response-dependent ones only when due."""


class CampaignError(ValueError):
    """Something about launching or changing a campaign that the person must fix first."""


def message_key(slug: str, step_id: str, person_id: int, suffix: str = "") -> str:
    return f"campaign:{slug}:{step_id}:{person_id}" + (f":{suffix}" if suffix else "")


def action_intent(campaign_id: int, step_id: str, action: str, arg: str = "") -> str:
    """What a campaign button carries: ``campaign:<n>:<step>:<action>[:<workshop>]``."""
    return f"{INTENT}:{campaign_id}:{step_id}:{action}" + (f":{arg}" if arg else "")


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


def language_of(spec: CampaignSpec, person: Person) -> str:
    """The person's language when the campaign speaks it, else the campaign's default."""
    return person.language if person.language in spec.languages else spec.default_language


def send_at(spec: CampaignSpec, step: Step, person: Person, policy: NudgePolicy) -> datetime | None:
    """When ``step`` reaches ``person``: its day (moved to their next working day) at the
    step's time in their own time zone; None when the campaign follows start dates and the
    person has none."""
    day0 = spec.start or person.start_date
    if day0 is None:
        return None
    return _moment(
        day0, step.day, person.country or policy.country, step.time or policy.time, person.timezone
    )


@cache
def _moment(day0: date, days: int, country: str, clock: str, zone: str) -> datetime:
    day = day0 + timedelta(days=days)
    while not is_working_day(day, country):
        day += timedelta(days=1)
    return at_local(day, clock, zone)


# -- what a person receives ----------------------------------------------------------------


def message(
    content: Content,
    spec: CampaignSpec,
    campaign_id: int,
    step: Step,
    person: Person,
    *,
    remind: bool = True,
) -> list[Reply]:
    """One step's message for one person, in their language: the text with its buttons, then
    one sign-up line per workshop."""
    return render(
        content,
        spec,
        campaign_id,
        step,
        lang=language_of(spec, person),
        zone=person.timezone,
        first_name=first_name(person),
        remind=remind,
    )


def first_name(person: Person) -> str:
    return person.name.split()[0] if person.name.strip() else ""


def render(
    content: Content,
    spec: CampaignSpec,
    campaign_id: int,
    step: Step,
    *,
    lang: str,
    zone: str,
    first_name: str,
    remind: bool = True,
) -> list[Reply]:
    text = fill(spec.text(step.message, lang), first_name=first_name)
    text += "\n" + content.text(lang, "campaigns.footer", name=spec.text(spec.name, lang))
    actions = [
        (
            action_intent(campaign_id, step.id, action),
            content.text(lang, f"campaigns.buttons.{action}"),
        )
        for action in step.actions
        if remind or action != "remind_tomorrow"
    ]
    links = tuple((spec.text(link.label, lang), link.url) for link in step.links)
    replies: list[Reply] = [Offer(text, tuple(actions), image=step.image, links=links)]
    for workshop_id in step.rsvp:
        workshop = spec.workshop(workshop_id)
        if workshop is None:
            continue
        sign_up = content.text(lang, "campaigns.buttons.rsvp")
        replies.append(
            Offer(
                workshop_line(content, spec, workshop_id, zone, lang),
                ((action_intent(campaign_id, step.id, "rsvp", workshop_id), sign_up),),
            )
        )
    return replies


def workshop_line(
    content: Content, spec: CampaignSpec, workshop_id: str, zone: str, lang: str
) -> str:
    """A workshop as one line: title, the day and time in the person's own zone, where."""
    workshop = spec.workshop(workshop_id)
    assert workshop is not None
    local = workshop.starts.astimezone(ZoneInfo(zone))
    when = f"{content.date(lang, local.date())}, {local:%H:%M}"
    if workshop.minutes:
        when += f"–{local + timedelta(minutes=workshop.minutes):%H:%M}"
    parts = [shorten(spec.text(workshop.title, lang), 150), when]
    if workshop.where:
        parts.append(shorten(spec.text(workshop.where, lang), 150))
    if workshop.capacity:
        parts.append(content.text(lang, "campaigns.places", n=workshop.capacity))
    return " · ".join(parts)


# -- what is due -----------------------------------------------------------------------------


def due_messages(
    db: Session,
    content: Content,
    *,
    now: datetime,
    policy: NudgePolicy,
    only: Campaign | None = None,
) -> list[Nudge]:
    """Every campaign message to write to the outbox at ``now`` (for running campaigns, or
    just ``only``). Campaigns that follow start dates take in new starters first."""
    found: list[Nudge] = []
    campaigns = [only] if only is not None else stored.running(db)
    for campaign in campaigns:
        assert campaign.id is not None
        spec = from_stored(campaign.spec)
        if spec.start is None:
            _take_in_starters(db, campaign, spec, now)
        found += _due_for(db, content, campaign, spec, now, policy)
    return found


def _due_for(
    db: Session,
    content: Content,
    campaign: Campaign,
    spec: CampaignSpec,
    now: datetime,
    policy: NudgePolicy,
    people: list[Person] | None = None,
) -> list[Nudge]:
    """``people``: the recipients when the caller has them (a first launch), else read."""
    assert campaign.id is not None
    if people is None:
        people = _people(db, stored.recipient_ids(db, campaign.id))
    if not people:
        return []
    keys = stored.sent_keys(db, campaign.id)
    answered = stored.responders(db, campaign.id)
    local_now: dict[str, datetime] = {}
    rendered: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    found: list[Nudge] = []

    def payload(step: Step, who: _Recipient) -> list[dict[str, Any]]:
        """Rendered once per step, language and time zone; only the first name differs."""
        shared = (step.id, who.language, who.zone)
        if shared not in rendered:
            replies = render(
                content,
                spec,
                campaign.id or 0,
                step,
                lang=who.language,
                zone=who.zone,
                first_name=_NAME,
            )
            rendered[shared] = [reply_to_dict(r) for r in replies]
        first, *rest = rendered[shared]
        return [{**first, "text": first["text"].replace(_NAME, who.first_name)}, *rest]

    recipients = [_Recipient.of(person, spec, policy) for person in people]
    for step in spec.steps:
        if spec.start is not None and _outside_window(spec.start, step, now, policy):
            continue
        clock = step.time or policy.time
        for who in recipients:
            key = message_key(spec.id, step.id, who.id)
            if key in keys:
                continue
            day0 = spec.start or who.start_date
            if day0 is None:
                continue
            at = _moment(day0, step.day, who.country, clock, who.zone)
            if who.zone not in local_now:
                local_now[who.zone] = now.astimezone(ZoneInfo(who.zone))
            if not _ready(step, at, now, local_now[who.zone], policy):
                continue
            if step.only is not None:
                kind, earlier = step.only
                did = who.id in answered.get(earlier, set())
                if (kind == RESPONDED) != did:
                    continue
            skip = _skip_reason(who.person, at)
            found.append(
                Nudge(
                    key,
                    who.id,
                    KIND,
                    at,
                    [] if skip else payload(step, who),
                    skipped=skip is not None,
                    campaign_id=campaign.id,
                    note=skip,
                )
            )
    return found


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
            first_name(person),
        )


def _outside_window(start: date, step: Step, now: datetime, policy: NudgePolicy) -> bool:
    """A cheap test that a dated step cannot be due (days away, or long past) for anyone."""
    day = start + timedelta(days=step.day)
    earliest = datetime.combine(day, datetime.min.time(), tzinfo=now.tzinfo) - timedelta(days=1)
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


def _skip_reason(person: Person, at: datetime) -> str | None:
    if person.campaigns_opt_out:
        return "opted out of campaigns"
    local_day = at.astimezone(ZoneInfo(person.timezone)).date()
    if person.nudge_paused_until is not None and person.nudge_paused_until >= local_day:
        return "paused nudges"
    return None


def _people(db: Session, ids: Iterable[int]) -> list[Person]:
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


# -- launching, changing, pausing ------------------------------------------------------------


@dataclass
class LaunchPlan:
    """What launching would do (``--dry-run``) or did."""

    spec: CampaignSpec
    audience: int = 0
    by_language: Counter[str] = field(default_factory=Counter)
    opted_out: int = 0
    paused: int = 0
    new_recipients: int = 0
    queued: int = 0
    existing: Campaign | None = None
    changed_steps: list[str] = field(default_factory=list)
    removed_steps: list[str] = field(default_factory=list)
    updated_messages: int = 0
    dropped_messages: int = 0
    recipients: list[Person] = field(default_factory=list)

    @property
    def is_edit(self) -> bool:
        return self.existing is not None

    @property
    def unchanged(self) -> bool:
        return self.existing is not None and self.existing.spec_hash == self.spec.hash


def plan_launch(db: Session, spec: CampaignSpec, *, now: datetime) -> LaunchPlan:
    """The audience and, for a campaign already running, what changed (no writes)."""
    plan = LaunchPlan(spec)
    plan.existing = stored.by_slug(db, spec.id)
    if plan.existing is not None and plan.existing.state == CampaignState.CANCELLED:
        raise CampaignError(
            f"campaign {spec.id!r} was cancelled; give the file a new id to run it again"
        )
    today = now.date()
    earliest = today - timedelta(days=spec.last_day + 1)
    for person in audience(db, spec):
        if spec.start is None and person.start_date is not None and person.start_date < earliest:
            continue  # an onboarding campaign: only people still within its days
        plan.audience += 1
        if person.campaigns_opt_out:
            plan.opted_out += 1
            continue
        if person.nudge_paused_until is not None and person.nudge_paused_until >= today:
            plan.paused += 1
        plan.by_language[language_of(spec, person)] += 1
        plan.recipients.append(person)
    if plan.existing is not None:
        before = from_stored(plan.existing.spec)
        old = {s.id: s for s in before.steps}
        plan.changed_steps = [s.id for s in spec.steps if old.get(s.id) != s]
        plan.removed_steps = [s for s in old if spec.step(s) is None]
        if before.workshops != spec.workshops:  # workshop lines are in the messages
            plan.changed_steps = [s.id for s in spec.steps if s.id in plan.changed_steps or s.rsvp]
    return plan


def launch(
    db: Session,
    content: Content,
    plan: LaunchPlan,
    *,
    owner: Person,
    now: datetime,
    policy: NudgePolicy,
) -> Campaign:
    """Launch (or apply an edit to) the campaign: store it, fix its audience, queue what is due.
    An edit changes only messages not sent yet; sent ones stay as they were."""
    spec = plan.spec
    campaign = plan.existing
    if campaign is None:
        campaign = Campaign(
            slug=spec.id,
            name=spec.text(spec.name, spec.default_language)[:200],
            owner_id=owner.id,
            spec=spec.raw,
            spec_hash=spec.hash,
            launched_at=now,
            updated_at=now,
        )
        db.add(campaign)
        db.flush()
    elif not plan.unchanged:
        campaign.spec, campaign.spec_hash = spec.raw, spec.hash
        campaign.name = spec.text(spec.name, spec.default_language)[:200]
        campaign.owner_id = owner.id
        campaign.version += 1
        campaign.updated_at = now
        db.add(campaign)
        db.flush()
        plan.updated_messages, plan.dropped_messages = _apply_edit(
            db, content, campaign, plan, policy
        )
    assert campaign.id is not None
    plan.new_recipients = stored.add_recipients(
        db, campaign.id, (p.id for p in plan.recipients if p.id is not None), now
    )
    if campaign.state == CampaignState.RUNNING:
        if plan.existing is None and spec.start is not None:  # the recipients are the plan's
            due = _due_for(db, content, campaign, spec, now, policy, people=plan.recipients)
        else:
            due = due_messages(db, content, now=now, policy=policy, only=campaign)
        plan.queued = enqueue_all(db, due)
    return campaign


def _apply_edit(
    db: Session, content: Content, campaign: Campaign, plan: LaunchPlan, policy: NudgePolicy
) -> tuple[int, int]:
    assert campaign.id is not None
    spec = plan.spec
    dropped = 0
    if plan.removed_steps:
        for row in stored.unsent(db, campaign.id, _prefixes(spec.id, plan.removed_steps)):
            row.state, row.last_error = "skipped", "step removed from the campaign"
            db.add(row)
            dropped += 1
    rows = stored.unsent(db, campaign.id, _prefixes(spec.id, plan.changed_steps))
    people = {p.id: p for p in _people(db, {row.person_id for row in rows})}
    for row in rows:
        step = spec.step(row.idempotency_key.split(":")[2])
        person = people.get(row.person_id)
        if step is None or person is None:
            continue
        again = row.idempotency_key.count(":") > 3  # a "remind me tomorrow" copy
        replies = message(content, spec, campaign.id, step, person, remind=not again)
        row.payload = [reply_to_dict(r) for r in replies]
        if not again:
            row.not_before = send_at(spec, step, person, policy) or row.not_before
        db.add(row)
    return len(rows), dropped


def _prefixes(slug: str, steps: Sequence[str]) -> list[str]:
    return [f"campaign:{slug}:{step}:" for step in steps]


def pause(db: Session, campaign: Campaign, *, now: datetime) -> int:
    """Messages not yet sent wait until ``resume``; returns how many are held."""
    assert campaign.id is not None
    if campaign.state != CampaignState.RUNNING:
        raise CampaignError(f"campaign {campaign.slug!r} is {campaign.state}, not running")
    campaign.state, campaign.updated_at = CampaignState.PAUSED, now
    db.add(campaign)
    return stored.hold(db, campaign.id)


def resume(db: Session, campaign: Campaign, *, now: datetime, policy: NudgePolicy) -> int:
    """Held messages go out again; one whose moment passed meanwhile goes at the same local time
    on the person's next working day (never in the middle of the night)."""
    assert campaign.id is not None
    if campaign.state != CampaignState.PAUSED:
        raise CampaignError(f"campaign {campaign.slug!r} is {campaign.state}, not paused")
    spec = from_stored(campaign.spec)
    rows = stored.held(db, campaign.id)
    people = {p.id: p for p in _people(db, {row.person_id for row in rows})}
    for row in rows:
        person = people.get(row.person_id)
        step = spec.step(row.idempotency_key.split(":")[2])
        if row.not_before < now and person is not None and step is not None:
            row.not_before = next_slot(person, step.time or policy.time, now, policy)
        row.state = "pending"
        db.add(row)
    campaign.state, campaign.updated_at = CampaignState.RUNNING, now
    db.add(campaign)
    return len(rows)


def next_slot(person: Person, clock: str, now: datetime, policy: NudgePolicy) -> datetime:
    """The next ``clock`` time on a working day of the person, after ``now``."""
    day = now.astimezone(ZoneInfo(person.timezone)).date()
    country = person.country or policy.country
    while True:
        if is_working_day(day, country):
            at = at_local(day, clock, person.timezone)
            if at > now:
                return at
        day += timedelta(days=1)


def cancel(db: Session, campaign: Campaign, *, now: datetime) -> int:
    """Stop for good: messages not yet sent are dropped; sent ones stay. Returns how many."""
    assert campaign.id is not None
    if campaign.state == CampaignState.CANCELLED:
        return 0
    campaign.state, campaign.updated_at = CampaignState.CANCELLED, now
    db.add(campaign)
    return stored.drop_unsent(db, reason="campaign cancelled", campaign_id=campaign.id)
