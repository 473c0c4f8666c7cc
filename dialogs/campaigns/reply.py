"""A button pressed on a campaign message: interested, not for me, remind me tomorrow, try it as
an experiment, reflect, sign up for a workshop (or give up a place).

The button carries ``<campaign>:<step>:<action>[:<workshop>]``; nothing in it is trusted: the
campaign must exist, the person must be one of its recipients and the step must offer that
button. Every press is recorded as a response to its step (what reminders to non-responders
and HR's counts use); pressing twice counts once.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from dialogs.campaigns.launch import next_slot
from dialogs.campaigns.messages import KIND, action_intent, message, message_key, workshop_line
from dialogs.campaigns.spec import CampaignSpec, Step, from_stored
from dialogs.engine.dialog import Ctx, Dialog, End, Next, Start
from dialogs.engine.replies import Offer, Say, reply_to_dict
from storage import campaigns as stored
from storage import workshop_places as places
from storage.models import Campaign, CampaignState, Person, RsvpState
from storage.outbox import OutboxMessage, enqueue
from storage.people import first_name

campaign_reply = Dialog("campaign_reply", version=1, first="act", title="campaigns.title")


def _parse(arg: str) -> tuple[int, str, str, str] | None:
    parts = arg.split(":")
    if len(parts) not in (3, 4) or not parts[0].isdigit():
        return None
    return int(parts[0]), parts[1], parts[2], parts[3] if len(parts) == 4 else ""


@campaign_reply.step("act")
def act(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    parsed = _parse(str(ctx.values.get("arg", "")))
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
        or not _offers(step, action, workshop_id)
        or not stored.is_recipient(ctx.db, campaign.id, ctx.person.id)
    ):
        ctx.say("campaigns.reply.unknown")
        return End()
    kind = "rsvp" if action in ("cancel", "leave") else action
    stored.respond(ctx.db, campaign.id, step.id, ctx.person.id, kind, ctx.now)
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


def _offers(step: Step, action: str, workshop_id: str) -> bool:
    if action in ("rsvp", "cancel", "leave"):
        return workshop_id in step.rsvp
    return action in step.actions and not workshop_id


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
    button = (
        ("cancel", "cancel_place")
        if place.state == RsvpState.GOING
        else ("leave", "leave_waitlist")
    )
    give_up = ctx.t(f"campaigns.buttons.{button[1]}")
    ctx.replies.append(
        Offer(text, ((action_intent(campaign_id, step.id, button[0], workshop_id), give_up),))
    )


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
            [reply_to_dict(r) for r in replies],
            campaign_id=campaign_id,
            campaign_step=step.id,
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
