"""A button pressed on a campaign message: interested, not for me, remind me tomorrow, try it as
an experiment, reflect, sign up for a workshop (or give up a place).

"Not for me" means not for this campaign: its later steps stop for the person (places they hold
stay theirs, with their reminders), and the answer offers "keep me posted" to undo it. A
confirmation of a place says the day and time in the person's own zone, and where.

The button carries ``<campaign>:<step>:<action>[:<workshop>]``; nothing in it is trusted: the
campaign must exist, the person must be one of its recipients and the step must offer that
button. Every press is recorded as a response to its step (what reminders to non-responders
and HR's counts use); pressing twice counts once.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from dialogs.campaigns.care import details
from dialogs.campaigns.checks import offers, parse_press
from dialogs.campaigns.launch import next_slot
from dialogs.campaigns.messages import (
    KIND,
    action_intent,
    colleague_stories,
    language_of,
    message,
    message_key,
    with_stories,
    workshop_line,
)
from dialogs.campaigns.spec import CampaignSpec, Step, Workshop, from_stored
from dialogs.campaigns.timing import deadline
from dialogs.engine.dialog import Ctx, Dialog, End, Next, Start
from dialogs.engine.replies import Offer, PersonalLink, PersonalLinks, Say, reply_to_dict
from storage import campaigns as stored
from storage import links
from storage import workshop_places as places
from storage.models import Campaign, CampaignState, LinkPurpose, Person, RsvpState
from storage.outbox import OutboxMessage, enqueue
from storage.people import first_name

campaign_reply = Dialog("campaign_reply", version=1, first="act", title="campaigns.title")


@campaign_reply.step("act")
def act(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    parsed = parse_press(str(ctx.values.get("arg", "")))
    campaign = ctx.db.get(Campaign, parsed[0]) if parsed else None
    if parsed is None or campaign is None or campaign.id is None:
        ctx.say("campaigns.reply.unknown")
        return End()
    _, step_id, action, workshop_id = parsed
    spec = from_stored(campaign.spec)
    step = spec.step(step_id)
    if campaign.state == CampaignState.CANCELLED:
        ctx.say("campaigns.reply.ended")
        return End()
    if (
        step is None
        or not offers(step, action, workshop_id)
        or not stored.is_recipient(ctx.db, campaign.id, ctx.person.id)
    ):
        ctx.say("campaigns.reply.unknown")
        return End()
    if action == "keep":
        stored.restart(ctx.db, campaign.id, ctx.person.id, now=ctx.now)
        ctx.say("campaign_care.kept", campaign=spec.text(spec.name, ctx.lang))
        return End()
    if action == "pulse":  # answered only once the questions are done (storage/pulse.py)
        return Start("pulse", {"campaign_id": campaign.id, "step": step.id})
    kind = "rsvp" if action in ("cancel", "leave") else action
    stored.respond(ctx.db, campaign.id, step.id, ctx.person.id, kind, ctx.now)
    if action == "not_for_me":
        _stop(ctx, spec, campaign.id, step)
        return End()
    if action in ("rsvp", "cancel", "leave"):
        _workshop(ctx, spec, campaign.id, step, action, workshop_id)
        return End()
    if action == "remind_tomorrow":
        _remind(ctx, spec, campaign.id, step)
        return End()
    if action in ("experiment", "reflect") and ctx.person.welcomed_at is None:
        return Start("welcome")  # the privacy promise comes before anything personal
    if action == "experiment":
        title = spec.text(step.experiment, ctx.lang)
        return Start(
            "experiment", {"title": title[:300], "campaign_id": campaign.id}, step="proposed"
        )
    if action == "reflect":
        return Start("reflection")
    ctx.say(f"campaigns.reply.{action}")
    return End()


def _stop(ctx: Ctx, spec: CampaignSpec, campaign_id: int, step: Step) -> None:
    """Not for me: none of the campaign's later steps, with a way back."""
    assert ctx.person.id is not None
    stored.stop(ctx.db, campaign_id, ctx.person.id, steps=[s.id for s in spec.steps], now=ctx.now)
    name = spec.text(spec.name, ctx.lang)
    text = ctx.t("campaign_care.stopped", campaign=name)
    if places.holds_any(ctx.db, campaign_id, ctx.person.id):
        text += " " + ctx.t("campaign_care.places_stay")
    keep = ctx.t("campaign_care.buttons.keep")
    ctx.replies.append(Offer(text, ((action_intent(campaign_id, step.id, "keep"), keep),)))


def _workshop(
    ctx: Ctx, spec: CampaignSpec, campaign_id: int, step: Step, action: str, workshop_id: str
) -> None:
    assert ctx.person.id is not None
    workshop = spec.workshop(workshop_id)
    assert workshop is not None
    name = spec.text(workshop.title, ctx.lang)
    if action == "rsvp" and workshop.starts <= ctx.now:
        ctx.say("campaigns.reply.past", workshop=name)
        return
    if action == "rsvp" and workshop.cancelled:
        ctx.say("campaign_care.no_sign_up", workshop=name)
        return
    if action in ("cancel", "leave"):
        was, moved_up = places.give_up_place(
            ctx.db, campaign_id, workshop_id, ctx.person.id, capacity=workshop.capacity
        )
        said = "campaigns.reply.left_waitlist" if action == "leave" else "campaigns.reply.gave_up"
        ctx.say(said if was else "campaigns.reply.not_signed_up", workshop=name)
        if moved_up is not None:
            _tell_moved_up(ctx, spec, campaign_id, step, workshop_id, moved_up)
        return
    place = places.sign_up(
        ctx.db, campaign_id, workshop_id, ctx.person.id, capacity=workshop.capacity, now=ctx.now
    )
    if place.state == RsvpState.GOING:
        key = "campaigns.reply.going" if place.new else "campaigns.reply.already_going"
    else:
        key = "campaigns.reply.waitlist" if place.new else "campaigns.reply.already_waiting"
    text = ctx.t(key, workshop=name, position=place.position)
    text += "\n" + details(ctx.content, spec, workshop, ctx.person.timezone, ctx.lang)
    button = (
        ("cancel", "cancel_place")
        if place.state == RsvpState.GOING
        else ("leave", "leave_waitlist")
    )
    give_up = ctx.t(f"campaigns.buttons.{button[1]}")
    ctx.replies.append(
        Offer(text, ((action_intent(campaign_id, step.id, button[0], workshop_id), give_up),))
    )
    if place.state == RsvpState.GOING:
        _calendar_link(ctx, campaign_id, workshop)


def _calendar_link(ctx: Ctx, campaign_id: int, workshop: Workshop) -> None:
    """An "Add to calendar" link to the workshop's ``.ics`` that works until it ends (a
    button in Slack and Teams, a file next to the exports in the console). Past the hourly
    limit of links the confirmation simply goes without it."""
    assert ctx.person.id is not None
    try:
        issued = links.issue(
            ctx.db,
            ctx.person.id,
            LinkPurpose.CALENDAR,
            now=ctx.now,
            ttl=workshop.ends - ctx.now,
            subject=f"{campaign_id}:{workshop.id}",
        )
    except links.TooManyLinks:
        return
    label = ctx.t("campaign_care.calendar.label")
    link = PersonalLink(str(issued.purpose), issued.token, label)
    text = ctx.t("campaign_care.calendar.text")
    ctx.replies.append(PersonalLinks(text, (link,), attached=True))


def _tell_moved_up(
    ctx: Ctx, spec: CampaignSpec, campaign_id: int, step: Step, workshop_id: str, person_id: int
) -> None:
    """The first person on the waitlist gets the freed place, and a message saying so."""
    person = ctx.db.get(Person, person_id)
    if person is None:
        return
    lang = person.language
    workshop = spec.workshop(workshop_id)
    assert workshop is not None
    text = ctx.content.text(
        lang,
        "campaigns.reply.moved_up",
        name=first_name(person.name),
        workshop=spec.text(workshop.title, lang),
    )
    text += "\n" + workshop_line(ctx.content, spec, workshop_id, person.timezone, lang)
    give_up = ctx.content.text(lang, "campaigns.buttons.cancel_place")
    offer = Offer(text, ((action_intent(campaign_id, step.id, "cancel", workshop_id), give_up),))
    key = message_key(spec.id, step.id, person_id, f"place-{workshop_id}-{ctx.now:%Y%m%d%H%M%S}")
    enqueue(
        ctx.db,
        OutboxMessage(
            key,
            person_id,
            KIND,
            ctx.now,
            [reply_to_dict(offer)],
            campaign_id=campaign_id,
            campaign_step=step.id,
            not_after=workshop.starts,
        ),
    )


def _remind(ctx: Ctx, spec: CampaignSpec, campaign_id: int, step: Step) -> None:
    """The same message again on the person's next working day, at the step's time (once)."""
    assert ctx.person.id is not None
    tomorrow = ctx.now + timedelta(days=1)
    local_start = tomorrow.astimezone(ZoneInfo(ctx.person.timezone)).replace(hour=0, minute=0)
    at = next_slot(
        ctx.person, step.time or ctx.settings.nudge_time, local_start, ctx.settings.policy
    )
    replies = message(ctx.content, spec, campaign_id, step, ctx.person, remind=False)
    key = message_key(spec.id, step.id, ctx.person.id, "again")
    enqueue(
        ctx.db,
        OutboxMessage(
            key,
            ctx.person.id,
            KIND,
            at,
            with_stories(
                [reply_to_dict(r) for r in replies],
                ctx.content,
                language_of(spec, ctx.person),
                colleague_stories(ctx.db, step),
            ),
            campaign_id=campaign_id,
            campaign_step=step.id,
            not_after=deadline(spec, step),
        ),
    )
    local = at.astimezone(ZoneInfo(ctx.person.timezone))
    ctx.replies.append(
        Say(
            ctx.t(
                "campaigns.reply.remind",
                day=ctx.t(f"settings.weekdays.d{local.weekday()}")
                if local.weekday() < 5
                else ctx.content.date(ctx.lang, local.date()),
                time=f"{local:%H:%M}",
            )
        )
    )
