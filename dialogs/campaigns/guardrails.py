"""Campaign guardrails: who may launch a campaign alone, and the second pair of eyes.

An author (an hr person; an admin is never limited by a scope) launches alone a campaign whose
audience is within their scope and no larger than the approval limit. Anything else waits for
a second hr or admin person, who is asked in chat with the preview and audience and approves
or declines with a button (or ``regie campaign approve``). What launches on approval is the
exact campaign data that was previewed (the stored data, checked against its content hash),
never a file read again. Every launch, approval and refusal is in the campaign's history
(``storage/campaign_guardrails.py``).

A campaign that follows each person's start date takes in new starters as they arrive, so for
a scoped author its audience filter must itself stay within the scope (its departments or its
countries); a dated campaign's audience is fixed at launch, so its people are what counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from dialogs.campaigns.launch import CampaignError, LaunchPlan, launch, plan_launch
from dialogs.campaigns.spec import from_stored
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import Content
from dialogs.engine.replies import Offer, Say, reply_to_dict
from storage import campaign_guardrails as guard
from storage.models import Campaign, CampaignLaunch, LaunchState, Person, Role
from storage.outbox import OutboxMessage, enqueue_many
from storage.people import by_email, first_name
from storage.privacy import Reader

SIZE = "size"
SCOPE = "scope"
AUTHORS = (Role.HR, Role.ADMIN)
KIND = "system"
"""Approval requests and their answers are about HR's own work: never held by a nudge pause
or moved by the calm rules."""
REVIEW = "campaigns:review"
DECLINE = "campaigns:decline"
"""The buttons of an approval request: the ``campaigns`` dialog with ``review:<n>`` or
``decline:<n>`` as its argument."""


@dataclass
class Submitted:
    """A launch asked for: launched (``campaign``), or waiting for a second person."""

    plan: LaunchPlan
    record: CampaignLaunch
    campaign: Campaign | None = None
    asked: int = 0
    """How many hr/admin people were asked to approve it."""

    @property
    def waiting(self) -> bool:
        return self.campaign is None


def within_scope(db: Session, plan: LaunchPlan, person: Person) -> bool:
    """Whether ``person`` may reach this audience alone (see the module's docstring)."""
    if person.role == Role.ADMIN:
        return True
    if person.role != Role.HR or person.id is None:
        return False
    scope = guard.scope_of(db, person.id)
    if scope is None or not scope.covers_all(plan.recipients):
        return False
    if scope.everyone or plan.spec.start is not None:
        return True
    wanted = plan.spec.audience
    countries = {c.upper() for c in wanted.countries}
    return bool(
        (wanted.departments and set(wanted.departments) <= scope.departments)
        or (countries and countries <= scope.countries)
    )


def reasons(db: Session, plan: LaunchPlan, author: Person, *, approval_over: int) -> list[str]:
    """Why this launch needs a second person (empty: the author may launch it alone)."""
    if author.role not in AUTHORS:
        raise CampaignError(
            f"{author.email} cannot launch campaigns: that takes the hr role (or admin)"
        )
    if plan.unchanged:
        return []
    found = [SIZE] if plan.reaching > approval_over else []
    return found + ([] if within_scope(db, plan, author) else [SCOPE])


def owner_of(db: Session, plan: LaunchPlan) -> Person:
    owner = by_email(db, plan.spec.owner)
    if owner is None:
        raise CampaignError(f"owner: nobody with e-mail {plan.spec.owner} (import them first)")
    return owner


def submit(
    db: Session,
    content: Content,
    plan: LaunchPlan,
    *,
    author: Person,
    actor: Reader,
    now: datetime,
    policy: NudgePolicy,
    approval_over: int,
) -> Submitted:
    """Launch ``plan`` when its author may alone; otherwise record it as waiting and ask every
    other hr/admin person who could approve it, in chat."""
    why = reasons(db, plan, author, approval_over=approval_over)
    owner = owner_of(db, plan)
    record = guard.record_launch(
        db,
        slug=plan.spec.id,
        spec=plan.spec.raw,
        spec_hash=plan.spec.hash,
        audience=plan.reaching,
        reasons=why,
        requested_by=actor,
        now=now,
    )
    if why:
        return Submitted(plan, record, asked=_ask_approvers(db, content, record, plan, author, now))
    campaign = launch(db, content, plan, owner=owner, now=now, policy=policy)
    assert campaign.id is not None
    guard.launched(db, record, campaign.id)
    return Submitted(plan, record, campaign)


def pending_launch(
    db: Session, launch_id: int, *, now: datetime
) -> tuple[CampaignLaunch, LaunchPlan]:
    """A launch waiting for approval and what it would do now, from its stored data (which
    must still be the data that was previewed: same content hash)."""
    record = _pending(db, launch_id)
    spec = from_stored(record.spec)
    if spec.hash != record.spec_hash:
        raise CampaignError(
            f"launch request {launch_id} no longer matches what was previewed; ask again"
        )
    return record, plan_launch(db, spec, now=now)


def _pending(db: Session, launch_id: int) -> CampaignLaunch:
    record = db.get(CampaignLaunch, launch_id)
    if record is None:
        raise CampaignError(f"there is no launch request {launch_id}")
    if record.state != LaunchState.PENDING:
        raise CampaignError(f"launch request {launch_id} is already {record.state}")
    return record


def approve(
    db: Session,
    content: Content,
    launch_id: int,
    *,
    approver: Person,
    actor: Reader,
    now: datetime,
    policy: NudgePolicy,
) -> Submitted:
    """A second person approves: the stored campaign data launches as it was previewed, and
    whoever asked hears so."""
    record, plan = pending_launch(db, launch_id, now=now)
    may_decide(record, approver)
    if not within_scope(db, plan, approver):
        raise CampaignError(
            "this audience is outside your own campaign scope too: an admin, or an hr person "
            "whose scope covers it, approves it"
        )
    campaign = launch(db, content, plan, owner=owner_of(db, plan), now=now, policy=policy)
    guard.decide(db, record, approve=True, by=actor, now=now, campaign_id=campaign.id)
    _tell_requester(db, content, record, approver, "approved", now)
    return Submitted(plan, record, campaign)


def decline(
    db: Session, content: Content, launch_id: int, *, by: Person, actor: Reader, now: datetime
) -> CampaignLaunch:
    record = _pending(db, launch_id)
    may_decide(record, by)
    guard.decide(db, record, approve=False, by=actor, now=now)
    _tell_requester(db, content, record, by, "declined", now)
    return record


def may_decide(record: CampaignLaunch, person: Person) -> None:
    """Refuses (``CampaignError``) anyone but a second hr or admin person."""
    if person.role not in AUTHORS:
        raise CampaignError(f"{person.email} cannot approve campaigns: that takes hr or admin")
    if person.id == record.requested_by_id:
        raise CampaignError(
            "you asked for this launch yourself: a second hr or admin person approves it"
        )


def approvers(db: Session, plan: LaunchPlan, author: Person) -> list[Person]:
    """The hr and admin people other than the author who could approve this launch."""
    query = select(Person).where(col(Person.role).in_(AUTHORS), Person.id != author.id)
    return [p for p in db.exec(query.order_by(col(Person.id))) if within_scope(db, plan, p)]


def _ask_approvers(
    db: Session,
    content: Content,
    record: CampaignLaunch,
    plan: LaunchPlan,
    author: Person,
    now: datetime,
) -> int:
    assert record.id is not None
    messages = []
    for person in approvers(db, plan, author):
        assert person.id is not None
        lang = person.language
        text = content.text(
            lang,
            "campaigns.guardrails.request",
            name=first_name(author.name),
            campaign=plan.spec.text(plan.spec.name, lang),
            count=plan.reaching,
            why=why_text(content, lang, record.reasons),
            hash=record.spec_hash[:12],
        )
        buttons = (
            (f"{REVIEW}:{record.id}", content.text(lang, "campaigns.guardrails.buttons.review")),
            (f"{DECLINE}:{record.id}", content.text(lang, "campaigns.guardrails.buttons.decline")),
        )
        messages.append(
            OutboxMessage(
                f"campaign-approval:{record.id}:{person.id}",
                person.id,
                KIND,
                now,
                [reply_to_dict(Offer(text, buttons))],
            )
        )
    enqueue_many(db, messages)
    return len(messages)


def why_text(content: Content, lang: str, why: list[str]) -> str:
    """The reasons a launch needs a second person, as a sentence part."""
    return "; ".join(content.text(lang, f"campaigns.guardrails.reasons.{r}") for r in why)


def _tell_requester(
    db: Session,
    content: Content,
    record: CampaignLaunch,
    by: Person,
    outcome: str,
    now: datetime,
) -> None:
    requester = db.get(Person, record.requested_by_id) if record.requested_by_id else None
    if requester is None or requester.id is None:
        return
    lang, spec = requester.language, from_stored(record.spec)
    text = content.text(
        lang,
        f"campaigns.guardrails.{outcome}",
        name=first_name(by.name),
        campaign=spec.text(spec.name, lang),
    )
    key = f"campaign-approval:{record.id}:{outcome}"
    enqueue_many(db, [OutboxMessage(key, requester.id, KIND, now, [reply_to_dict(Say(text))])])
