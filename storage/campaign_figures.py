"""A campaign's figures for HR: messages per step and state, responses, experiments started
from it and workshop sign-ups. Counts of people under the minimum group size show as ``<K``;
people's own choices (a nudge pause, opting out of campaigns) are counts of people too, and
where they add up with delivery counts to a total HR knows, the cells are protected together
(``MinimumGroup.partition``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, func
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

PEOPLES_CHOICES = frozenset({"paused nudges", "opted out of campaigns", "paused", "not for me"})
"""Skip reasons that are a person's own choice (the planner's, the preferences', the delivery
worker's): counted under the ``<K`` rule, never exactly when small."""
STEP_COLUMNS = ("queued", "held", "sent", "failed", "skipped")
NOT_NOW = "remind_tomorrow"
NO_THANKS = "not_for_me"
SET_ASIDE = frozenset({NOT_NOW, NO_THANKS})
"""Presses that put a message aside ("not now", "no thanks") rather than answer it: counted
on their own (``StepFigures.not_now``, ``no_thanks``), never as a response."""


@dataclass
class StepFigures:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    held: int = 0
    responded: int = 0
    """People who answered its message: any press but "not now" and "no thanks"."""
    not_now: int = 0
    """People who pressed "not now" (``remind_tomorrow``)."""
    no_thanks: int = 0
    """People who pressed "no thanks" (``not_for_me``)."""
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
    """People who answered at least one of its messages ("not now" and "no thanks" are not
    answers)."""
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
    """Counted in the database: each query groups, so a few dozen rows come back however many
    people the campaign has (not one per message or response)."""
    assert campaign.id is not None
    cid = campaign.id
    steps = {step: StepFigures() for step in step_ids}
    failures: Counter[str] = Counter()
    skips: Counter[str] = Counter()
    state = col(Outbound.state)
    for step_id, message_state, n in db.exec(
        select(Outbound.campaign_step, state, func.count())
        .where(Outbound.campaign_id == cid)
        .group_by(col(Outbound.campaign_step), state)
    ):
        step = steps.setdefault(step_id or "", StepFigures())
        if message_state == OutboxState.SENT:
            step.sent += n
        elif message_state in (OutboxState.PENDING, OutboxState.SENDING):
            step.queued += n
        elif message_state == OutboxState.HELD:
            step.held += n
        elif message_state == OutboxState.SKIPPED:
            step.skipped += n
        else:
            step.failed += n
    for step_id, message_state, error, n in db.exec(
        select(Outbound.campaign_step, state, Outbound.last_error, func.count())
        .where(Outbound.campaign_id == cid)
        .where(state.in_(_WITH_REASON))
        .group_by(col(Outbound.campaign_step), state, col(Outbound.last_error))
        .order_by(func.min(Outbound.id))  # reasons as often as each other: first seen first
    ):
        reason = _reason(error)
        if message_state == OutboxState.SKIPPED:
            skips[reason] += n
            if reason in PEOPLES_CHOICES:
                steps[step_id or ""].declined += n
        else:
            failures[reason] += n
    reached = db.exec(
        select(func.count(func.distinct(Outbound.person_id)))
        .where(Outbound.campaign_id == cid)
        .where(state == OutboxState.SENT)
    ).one()
    counted = _counted_responses(cid)
    people = func.count(func.distinct(CampaignResponse.person_id))
    for step_id, kind, n, pressed in db.exec(
        select(CampaignResponse.step, CampaignResponse.kind, func.count(), people)
        .where(counted)
        .group_by(col(CampaignResponse.step), col(CampaignResponse.kind))
    ):
        step = steps.setdefault(step_id, StepFigures())
        step.responses[kind] += n
        if kind == NOT_NOW:
            step.not_now = pressed
        elif kind == NO_THANKS:
            step.no_thanks = pressed
    answered = col(CampaignResponse.kind).not_in(SET_ASIDE)
    for step_id, n in db.exec(
        select(CampaignResponse.step, people)
        .where(counted, answered)
        .group_by(col(CampaignResponse.step))
    ):
        steps[step_id].responded = n
    responded = db.exec(select(people).where(counted, answered)).one()
    experiments = db.exec(
        select(func.count(func.distinct(Experiment.person_id)))
        .where(Experiment.campaign_id == cid)
        .where(col(Experiment.in_aggregates))
    ).one()
    rsvps: dict[str, Counter[str]] = defaultdict(Counter)
    for workshop, rsvp_state, n in db.exec(
        select(CampaignRsvp.workshop, CampaignRsvp.state, func.count())
        .where(CampaignRsvp.campaign_id == cid)
        .group_by(col(CampaignRsvp.workshop), col(CampaignRsvp.state))
    ):
        rsvps[workshop][rsvp_state] = int(n)
    targeted = int(db.exec(select(func.count()).where(CampaignRecipient.campaign_id == cid)).one())
    return Figures(
        k=MinimumGroup.configured(min_group).k,
        targeted=targeted,
        reached=int(reached),
        steps=steps,
        failure_reasons=failures,
        skip_reasons=skips,
        responded=int(responded),
        experiments=int(experiments),
        rsvps=dict(rsvps),
    )


_WAITING_OR_SENT = (OutboxState.SENT, OutboxState.PENDING, OutboxState.SENDING, OutboxState.HELD)
_WITH_REASON = tuple(state for state in OutboxState if state not in _WAITING_OR_SENT)
"""Skipped and failed (or dead) messages: few, as a rule, and read again for why."""


def _counted_responses(cid: int) -> ColumnElement[bool]:
    """The campaign's responses of people counted in aggregates (joined to ``person``)."""
    return and_(
        col(CampaignResponse.campaign_id) == cid,
        col(Person.id) == col(CampaignResponse.person_id),
        col(Person.in_aggregates),
    )


def _reason(error: str | None) -> str:
    return (error or "unknown").split("\n")[0][:120]
