"""A campaign's figures for HR: messages per step and state, responses, experiments started
from it and workshop sign-ups. Counts of people under the minimum group size show as ``<K``;
people's own choices (a nudge pause, opting out of campaigns) are counts of people too, and
where they add up with delivery counts to a total HR knows, the cells are protected together
(``MinimumGroup.partition``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import Session, col, select

from storage.models import (
    Campaign,
    CampaignRecipient,
    CampaignResponse,
    CampaignRsvp,
    Experiment,
    Outbound,
    OutboxState,
    Person,
)
from storage.privacy import Cells, MinimumGroup

PEOPLES_CHOICES = frozenset({"paused nudges", "opted out of campaigns", "paused"})
"""Skip reasons that are a person's own choice (the planner's, the preferences', the delivery
worker's): counted under the ``<K`` rule, never exactly when small."""
STEP_COLUMNS = ("queued", "held", "sent", "failed", "skipped")


@dataclass
class StepFigures:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    held: int = 0
    responded: int = 0
    responses: Counter[str] = field(default_factory=Counter)
    declined: int = 0
    """Skipped for a person's own choice (paused, opted out): part of ``skipped``."""


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
        """A count of the campaign's people, under the one ``<K`` rule (``MinimumGroup``)."""
        rule = MinimumGroup(self.k)
        return rule.cell(rule.count(people, group=self.targeted))

    @property
    def rule(self) -> MinimumGroup:
        return MinimumGroup(self.k)

    def step_cells(self, step_id: str) -> Cells:
        """One step's messages by state (``STEP_COLUMNS``; one message a person): the skipped
        ones protected when some of them are people's choices."""
        s = self.steps.get(step_id) or StepFigures()
        counts = [s.queued, s.held, s.sent, s.failed, s.skipped]
        return self.rule.partition(counts, sensitive={4} if s.declined else set())

    def total_cells(self) -> Cells:
        """All messages by state — waiting (queued or held), sent, failed, skipped — protected
        the same way (the chat's status line)."""
        steps = self.steps.values()
        counts = [
            sum(s.queued + s.held for s in steps),
            self.sent,
            sum(s.failed for s in steps),
            sum(s.skipped for s in steps),
        ]
        declined = any(s.declined for s in steps)
        return self.rule.partition(counts, sensitive={3} if declined else set())

    def skip_reason_cells(self) -> list[tuple[str, str]]:
        """Why messages were skipped, most frequent first: a person's own choice counted under
        the rule, protected together with the other reasons."""
        reasons = self.skip_reasons.most_common()
        if not reasons:
            return []
        choices = {n for n, (reason, _) in enumerate(reasons) if reason in PEOPLES_CHOICES}
        cells = self.rule.partition([n for _, n in reasons], sensitive=choices)
        return [(reason, cells.shown(n)) for n, (reason, _) in enumerate(reasons)]

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
            Outbound.campaign_step, Outbound.state, Outbound.last_error, Outbound.person_id
        ).where(Outbound.campaign_id == cid)
    )
    for step_id, state, error, person_id in rows:
        step = steps.setdefault(step_id or "", StepFigures())
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
            if _reason(error) in PEOPLES_CHOICES:
                step.declined += 1
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
        k=MinimumGroup.configured(min_group).k,
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
