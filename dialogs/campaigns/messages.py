"""What a campaign message looks like for one person: the step's text in their language with
its buttons (intents carrying ``campaign:<n>:<step>:<action>``), links and image, then one
sign-up line per workshop in their own time zone; and the outbox key of each message."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from dialogs.campaigns.spec import CampaignSpec, Step, fill
from dialogs.engine.content import Content
from dialogs.engine.replies import Offer, Reply
from dialogs.engine.text import shorten
from storage.models import Person
from storage.people import first_name

KIND = "campaign"
INTENT = "campaign"
NAME = "\x00first-name\x00"
"""Stands for the first name in a message rendered once for many people."""


def message_key(slug: str, step_id: str, person_id: int, suffix: str = "") -> str:
    return f"campaign:{slug}:{step_id}:{person_id}" + (f":{suffix}" if suffix else "")


def action_intent(campaign_id: int, step_id: str, action: str, arg: str = "") -> str:
    """What a campaign button carries: ``campaign:<n>:<step>:<action>[:<workshop>]``."""
    return f"{INTENT}:{campaign_id}:{step_id}:{action}" + (f":{arg}" if arg else "")


def language_of(spec: CampaignSpec, person: Person) -> str:
    """The person's language when the campaign speaks it, else the campaign's default."""
    return person.language if person.language in spec.languages else spec.default_language


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
        first_name=first_name(person.name),
        remind=remind,
    )


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
