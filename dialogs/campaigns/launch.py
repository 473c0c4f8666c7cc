"""Launching a campaign, applying an edited file to a running one, pausing, resuming and
cancelling: what changes in the outbox, and what never does (a message already sent)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dialogs.campaigns import care, timing
from dialogs.campaigns.messages import (
    colleague_stories,
    language_of,
    message,
    message_key,
    with_stories,
)
from dialogs.campaigns.planner import (
    audience,
    due_for,
    due_messages,
    people_by_id,
    planned_at,
    send_at,
)
from dialogs.campaigns.spec import CampaignSpec, from_stored
from dialogs.engine.calendar import NudgePolicy, is_working_day
from dialogs.engine.calendar import local_instant as at_local
from dialogs.engine.content import Content
from dialogs.engine.replies import reply_to_dict
from storage import campaigns as stored
from storage.models import Campaign, CampaignState, OutboxState, Person
from storage.outbox import enqueue_many, mark_skipped, past_deadline
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
        if before.workshops != spec.workshops:  # their lines, moments and deadlines
            plan.changed_steps = [
                s.id for s in spec.steps if s.id in plan.changed_steps or s.invites_to
            ]
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
        care.apply_workshop_changes(db, content, campaign, spec, now=now)
        campaign.spec, campaign.spec_hash = spec.raw, spec.hash
        campaign.name = spec.text(spec.name, spec.default_language)[:200]
        campaign.owner_id = owner.id
        campaign.version += 1
        campaign.updated_at = now
        db.add(campaign)
        db.flush()
        plan.updated_messages, plan.dropped_messages = _apply_edit(
            db, content, campaign, plan, policy, now=now
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
    db: Session,
    content: Content,
    campaign: Campaign,
    plan: LaunchPlan,
    policy: NudgePolicy,
    *,
    now: datetime,
) -> tuple[int, int]:
    """Unsent messages of changed steps rendered again and re-timed (a step timed by a
    workshop that moved moves with it); each about a workshop checked against its deadline
    (the edited workshops' starts): kept, moved earlier or skipped. Returns (updated,
    dropped)."""
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
    updated = 0
    for row in rows:
        step = spec.step(row.campaign_step)
        person = people.get(row.person_id)
        if step is None or person is None:
            continue
        own = row.idempotency_key == message_key(spec.id, step.id, row.person_id)
        again = row.idempotency_key == message_key(spec.id, step.id, row.person_id, "again")
        # "remind me tomorrow" (again) is the step's message once more, at its own moment; a
        # message of its own ("a place opened up for you") is never replaced, only checked
        if own:
            row.not_before = planned_at(spec, step, person, policy) or row.not_before
        if step.invites_to:
            checked = timing.in_time(
                spec,
                step,
                row.not_before,
                now=now,
                zone=person.timezone,
                country=person.country or policy.country,
            )
            if checked.skip is not None:
                mark_skipped(row, reason=checked.skip)
                db.add(row)
                continue
            row.not_before = checked.at
            row.not_after = timing.deadline(spec, step)
        if own or again:
            replies = message(
                content, spec, campaign.id, step, person, remind=own, at=max(row.not_before, now)
            )
            parts = [reply_to_dict(r) for r in replies]
            told = colleague_stories(db, step)
            row.payload = with_stories(parts, content, language_of(spec, person), told)
            updated += 1
        db.add(row)
    return updated, dropped


def first_moment(plan: LaunchPlan, policy: NudgePolicy, *, now: datetime) -> datetime | None:
    """When the first message still to come goes out (a step for everyone, not one that waits
    for responses): what a launch that queued nothing yet tells its author."""
    moments = (
        at
        for step in plan.spec.steps
        if step.only is None
        for person in plan.recipients
        if (at := send_at(plan.spec, step, person, policy)) is not None and at > now
    )
    return min(moments, default=None)


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
    on the person's next working day (never in the middle of the night). A message about a
    workshop is checked against its deadline first: kept, moved earlier when its step says
    ``too_late: earlier`` (now, if there is still time), or skipped, never sent after the
    start. Returns how many go out again."""
    assert campaign.id is not None
    if campaign.state != CampaignState.PAUSED:
        raise CampaignError(f"campaign {campaign.slug!r} is {campaign.state}, not paused")
    spec = from_stored(campaign.spec)
    rows = stored.held(db, campaign.id)
    people = {p.id: p for p in people_by_id(db, {row.person_id for row in rows})}
    released = 0
    for row in rows:
        person = people.get(row.person_id)
        step = spec.step(row.campaign_step)
        at = row.not_before
        if at < now and person is not None and step is not None:
            at = next_slot(person, step.time or policy.time, now, policy)
        if person is not None and step is not None and step.invites_to:
            country = person.country or policy.country
            checked = timing.in_time(spec, step, at, now=now, zone=person.timezone, country=country)
            skip, at = checked.skip, checked.at
        else:  # a reminder (or a message about a workshop no step names any more)
            skip = timing.TOO_LATE if past_deadline(row.not_after, now=max(at, now)) else None
        if skip is not None:
            mark_skipped(row, reason=skip)
        else:
            row.not_before, row.state = at, OutboxState.PENDING
            released += 1
        db.add(row)
    campaign.state, campaign.updated_at = CampaignState.RUNNING, now
    db.add(campaign)
    return released


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
    dropped = stored.drop_unsent(db, reason="campaign cancelled", campaign_id=campaign.id)
    care.tell_cancelled(db, campaign, now=now)  # then: notices to who holds a place
    return dropped
