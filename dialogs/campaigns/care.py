"""Attendee care: what the bot tells people who hold a place at a campaign's workshop (or wait
for one) — a reminder before it starts, a notice when it moves or is cancelled, or when the
whole campaign is — and the day, time and place a confirmation shows.

Every one is an outbox message (kind :data:`~dialogs.campaigns.messages.CARE_KIND`) with an
idempotency key naming the workshop's moment, so running it again never sends twice, and a
workshop that moves gets reminders for its new moment. Reminders are decided when due, from who
holds a place then (someone who gave theirs up gets none), at the file's ``attendee_reminders``
before the start, moved earlier when that is night-time for the person
(``timing.in_their_day``). Moving or cancelling a workshop is an edit of the campaign file
applied with ``regie campaign launch``: :func:`apply_workshop_changes` runs then.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from dialogs.campaigns.messages import (
    CARE_KIND,
    action_intent,
    language_of,
    message_key,
    when,
)
from dialogs.campaigns.spec import CampaignSpec, Step, Workshop, from_stored
from dialogs.campaigns.timing import in_their_day
from dialogs.engine.content import Content, load_content
from dialogs.engine.replies import Offer, reply_to_dict
from storage import campaigns as stored
from storage import workshop_places as places
from storage.models import Campaign, Person, RsvpState
from storage.outbox import OutboxMessage, enqueue_many, mark_skipped
from storage.people import first_name

REMINDER = "reminder-"
"""A reminder's ``campaign_step``: ``reminder-<workshop>`` (what reports count it under)."""
NOTICE = "notice-"
"""A notice's ``campaign_step``: ``notice-<workshop>``."""
LATE_REMINDER = timedelta(hours=12)
"""A reminder whose moment passed while the service was down still goes within this long
(and before the workshop starts)."""


def details(content: Content, spec: CampaignSpec, workshop: Workshop, zone: str, lang: str) -> str:
    """ "When: Monday 7 December, 14:00–15:30 (CET)" and "Where: Room De Linde", in the
    reader's zone and language."""
    lines = [content.text(lang, "campaign_care.when", when=when(workshop, zone, lang))]
    if workshop.where:
        lines.append(
            content.text(lang, "campaign_care.where", where=spec.text(workshop.where, lang))
        )
    return "\n".join(lines)


def rsvp_step(spec: CampaignSpec, workshop_id: str) -> Step | None:
    """The first step people sign up for the workshop from: the one its buttons name."""
    return next((s for s in spec.steps if workshop_id in s.rsvp), None)


def _message(
    content: Content,
    spec: CampaignSpec,
    campaign_id: int,
    workshop: Workshop,
    person: Person,
    *,
    text_key: str,
    key: str,
    step: str,
    due: datetime,
    give_up: bool,
    not_after: datetime | None = None,
    **values: Any,
) -> OutboxMessage:
    """One care message: the text, the workshop's details in the reader's zone and, for
    someone who keeps a place, the button to give it up."""
    assert person.id is not None
    lang = language_of(spec, person)
    text = content.text(
        lang,
        text_key,
        name=first_name(person.name),
        workshop=spec.text(workshop.title, lang),
        when=when(workshop, person.timezone, lang),
        campaign=spec.text(spec.name, lang),
        **values,
    )
    text += "\n" + details(content, spec, workshop, person.timezone, lang)
    actions: tuple[tuple[str, str], ...] = ()
    signed_up = rsvp_step(spec, workshop.id)
    if give_up and signed_up is not None:
        label = content.text(lang, "campaigns.buttons.cancel_place")
        actions = ((action_intent(campaign_id, signed_up.id, "cancel", workshop.id), label),)
    return OutboxMessage(
        key,
        person.id,
        CARE_KIND,
        due,
        [reply_to_dict(Offer(text, actions))],
        campaign_id=campaign_id,
        campaign_step=step,
        not_after=not_after,
    )


def _moment(workshop: Workshop) -> str:
    """The workshop's start in a key: a moved workshop's messages are new ones."""
    return f"{workshop.starts.astimezone(UTC):%Y%m%d%H%M}"


# -- reminders -------------------------------------------------------------------------------


def due_reminders(
    db: Session,
    content: Content,
    campaign: Campaign,
    spec: CampaignSpec,
    *,
    now: datetime,
    ahead: timedelta = timedelta(hours=24),
) -> list[OutboxMessage]:
    """Reminders to write at ``now`` (up to ``ahead`` before they go) to the people holding a
    place: one per ``attendee_reminders`` span, unless they signed up after its moment (the
    confirmation said it all), or its moment passed more than :data:`LATE_REMINDER` ago."""
    assert campaign.id is not None
    if not spec.attendee_reminders:
        return []
    found: list[OutboxMessage] = []
    keys: set[str] | None = None
    for workshop in spec.workshops:
        if workshop.cancelled or workshop.starts <= now:
            continue
        moments = {span: workshop.before(span) for span in spec.attendee_reminders}
        if min(moments.values()) - timedelta(days=1) > now + ahead:  # night moves: a day
            continue
        for holder in places.holders(db, campaign.id, workshop.id):
            person = holder.person
            if person.id is None or person.campaigns_opt_out:
                continue
            for span, moment in moments.items():
                at = in_their_day(moment, person.timezone)
                if at > now + ahead or at < holder.since or now - at > LATE_REMINDER:
                    continue
                if max(at, now) >= workshop.starts:
                    continue
                suffix = f"{span}-{_moment(workshop)}-{holder.since:%Y%m%d%H%M%S}"
                key = message_key(spec.id, REMINDER + workshop.id, person.id, suffix)
                if keys is None:
                    keys = stored.sent_keys(db, campaign.id)
                if key in keys:
                    continue
                found.append(
                    _message(
                        content,
                        spec,
                        campaign.id,
                        workshop,
                        person,
                        text_key="campaign_care.reminder",
                        key=key,
                        step=REMINDER + workshop.id,
                        due=at,
                        give_up=True,
                        not_after=workshop.starts,
                    )
                )
    return found


# -- notices -----------------------------------------------------------------------------------


def tell_cancelled(
    db: Session, campaign: Campaign, *, now: datetime, content: Content | None = None
) -> int:
    """The whole campaign is cancelled: everyone holding a place at (or waiting for) one of
    its workshops still to come is told. Call it after its unsent messages were dropped.
    Returns how many notices were new."""
    assert campaign.id is not None
    texts = content or load_content()
    spec = from_stored(campaign.spec)
    notices: list[OutboxMessage] = []
    for workshop in spec.workshops:
        if workshop.cancelled or workshop.starts <= now:
            continue
        for holder in places.holders(db, campaign.id, workshop.id, waiting=True):
            assert holder.person.id is not None
            notices.append(
                _message(
                    texts,
                    spec,
                    campaign.id,
                    workshop,
                    holder.person,
                    text_key="campaign_care.campaign_cancelled",
                    key=message_key(spec.id, NOTICE + workshop.id, holder.person.id, "cancelled"),
                    step=NOTICE + workshop.id,
                    due=now,
                    give_up=False,
                )
            )
    return enqueue_many(db, notices)


def apply_workshop_changes(
    db: Session,
    content: Content,
    campaign: Campaign,
    spec: CampaignSpec,
    *,
    now: datetime,
) -> int:
    """An edited file is being applied (``campaign.spec`` still holds the old one): for each
    workshop still to come that was cancelled, or whose time or place changed, everyone
    holding a place or waiting is told, and reminders queued for its old moment are dropped.
    (Invitations queued are re-timed and checked against the new starts by
    ``launch._apply_edit``.) Returns how many notices were new."""
    assert campaign.id is not None
    old = from_stored(campaign.spec)
    notices: list[OutboxMessage] = []
    for workshop in spec.workshops:
        before = old.workshop(workshop.id)
        if before is None or before.cancelled or before.starts <= now:
            continue
        if workshop.cancelled:
            kind = "cancelled"
        elif (workshop.starts, workshop.where, workshop.minutes) != (
            before.starts,
            before.where,
            before.minutes,
        ):
            kind = "moved"
        else:
            continue
        for row in stored.unsent(db, campaign.id, [REMINDER + workshop.id]):
            mark_skipped(row, reason=f"workshop {kind}")
            db.add(row)
        for holder in places.holders(db, campaign.id, workshop.id, waiting=True):
            assert holder.person.id is not None
            state = "going" if holder.state == RsvpState.GOING else "waiting"
            notices.append(
                _message(
                    content,
                    spec,
                    campaign.id,
                    workshop,
                    holder.person,
                    text_key=f"campaign_care.{kind}.{state}",
                    key=message_key(
                        spec.id,
                        NOTICE + workshop.id,
                        holder.person.id,
                        f"{kind}-{_moment(workshop)}",
                    ),
                    step=NOTICE + workshop.id,
                    due=now,
                    give_up=kind == "moved" and state == "going",
                )
            )
    return enqueue_many(db, notices)
