"""Launching a campaign, applying an edited file to a running one, pausing, resuming and
cancelling: what changes in the outbox, and what never does (a message already sent)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dialogs.campaigns.messages import language_of, message, message_key
from dialogs.campaigns.planner import audience, due_for, due_messages, people_by_id, send_at
from dialogs.campaigns.spec import CampaignSpec, from_stored
from dialogs.engine.calendar import NudgePolicy, is_working_day
from dialogs.engine.calendar import local_instant as at_local
from dialogs.engine.content import Content
from dialogs.engine.replies import reply_to_dict
from storage import campaigns as stored
from storage.models import Campaign, CampaignState, OutboxState, Person
from storage.outbox import enqueue_many, mark_skipped
from storage.privacy import MinimumGroup


class CampaignError(ValueError):
    """Something about launching or changing a campaign that the person must fix first."""


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

    @property
    def reaching(self) -> int:
        """The people it goes to (the audience less those who opted out of campaigns)."""
        return len(self.recipients)

    def choices(self, min_group: int) -> tuple[str, str]:
        """How many opted out of campaigns and how many paused their nudges, as HR may see
        them: people's own choices, under the one ``<K`` rule. (The audience before opt-outs
        is never shown next to them: it would tell the first by subtraction.)"""
        rule = MinimumGroup.configured(min_group)
        opted_out = rule.count(self.opted_out, group=self.audience)
        paused = rule.count(self.paused, group=self.reaching)
        return rule.cell(opted_out), rule.cell(paused)


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
            due = due_for(db, content, campaign, spec, now, policy, people=plan.recipients)
        else:
            due = due_messages(db, content, now=now, policy=policy, only=campaign)
        plan.queued = enqueue_many(db, due)
    return campaign


def _apply_edit(
    db: Session, content: Content, campaign: Campaign, plan: LaunchPlan, policy: NudgePolicy
) -> tuple[int, int]:
    assert campaign.id is not None
    spec = plan.spec
    dropped = 0
    if plan.removed_steps:
        for row in stored.unsent(db, campaign.id, plan.removed_steps):
            mark_skipped(row, reason="step removed from the campaign")
            db.add(row)
            dropped += 1
    rows = stored.unsent(db, campaign.id, plan.changed_steps)
    people = {p.id: p for p in people_by_id(db, {row.person_id for row in rows})}
    for row in rows:
        step = spec.step(row.campaign_step)
        person = people.get(row.person_id)
        if step is None or person is None:
            continue
        # not the step's own message but a copy a button press queued ("remind me tomorrow",
        # a freed workshop place): rendered again, at its own moment
        copy = row.idempotency_key != message_key(spec.id, step.id, row.person_id)
        replies = message(content, spec, campaign.id, step, person, remind=not copy)
        row.payload = [reply_to_dict(r) for r in replies]
        if not copy:
            row.not_before = send_at(spec, step, person, policy) or row.not_before
        db.add(row)
    return len(rows), dropped


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
    people = {p.id: p for p in people_by_id(db, {row.person_id for row in rows})}
    for row in rows:
        person = people.get(row.person_id)
        step = spec.step(row.campaign_step)
        if row.not_before < now and person is not None and step is not None:
            row.not_before = next_slot(person, step.time or policy.time, now, policy)
        row.state = OutboxState.PENDING
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
