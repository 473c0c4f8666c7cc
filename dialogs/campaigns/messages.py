"""What a campaign message looks like for one person: the step's text in their language with
its buttons (intents carrying ``campaign:<n>:<step>:<action>``), links and image, then one
sign-up line per workshop in their own time zone (none for a workshop that is cancelled or has
started by the time the message goes); and the outbox key of each message."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from sqlmodel import Session

from dialogs.campaigns.spec import CampaignSpec, Step, Workshop, fill
from dialogs.engine.content import Content
from dialogs.engine.replies import Offer, Reply, Say, reply_to_dict
from dialogs.engine.text import shorten
from dialogs.flows.stories import render_story
from storage import stories as stored_stories
from storage.models import Person, Story
from storage.outbox import ABOUT
from storage.people import first_name

KIND = "campaign"
CARE_KIND = "system"
"""Attendee care (a reminder before someone's workshop, a notice that it moved or was
cancelled): news about something the person signed up for, tied to a fixed moment, not a
nudge. Calm leaves it alone (it must not move to another half-day) and it is delivered during
a pause of nudges; it still belongs to its campaign (paused, held; cancelled, dropped)."""
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
    at: datetime | None = None,
) -> list[Reply]:
    """One step's message for one person, in their language: the text with its buttons, then
    one sign-up line per workshop (``at``: when it goes; started workshops are left out)."""
    return render(
        content,
        spec,
        campaign_id,
        step,
        lang=language_of(spec, person),
        zone=person.timezone,
        first_name=first_name(person.name),
        remind=remind,
        at=at,
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
    at: datetime | None = None,
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
        if workshop is None or not open_at(workshop, at):
            continue
        sign_up = content.text(lang, "campaigns.buttons.rsvp")
        replies.append(
            Offer(
                workshop_line(content, spec, workshop_id, zone, lang),
                ((action_intent(campaign_id, step.id, "rsvp", workshop_id), sign_up),),
            )
        )
    return replies


def colleague_stories(db: Session, step: Step) -> list[tuple[Story, Person | None]]:
    """The step's "stories from colleagues", read when its messages are queued: the newest
    stories shared with HR for campaigns, never a withdrawn one (with their authors)."""
    if not step.stories:
        return []
    found = stored_stories.consented(db, limit=step.stories)
    return [(s, db.get(Person, s.person_id) if s.person_id else None) for s in found]


def with_stories(
    parts: list[dict[str, Any]],
    content: Content,
    lang: str,
    told: Sequence[tuple[Story, Person | None]],
) -> list[dict[str, Any]]:
    """The message's parts with the stories under its text, as one part labelled with their
    authors and stories: forgetting an author or withdrawing a story removes it from every
    message (``storage.outbox.redact_about``, ``storage.stories.unquote``)."""
    if not told:
        return parts
    lines = [content.text(lang, "story.from_colleagues")]
    lines += [render_story(content, lang, story, author) for story, author in told]
    part = reply_to_dict(Say("\n\n".join(lines), section=True))
    part[ABOUT] = sorted({s.person_id for s, _ in told if s.person_id is not None})
    part[stored_stories.STORY] = [s.id for s, _ in told]
    return [*parts[:1], part, *parts[1:]]


def open_at(workshop: Workshop, at: datetime | None) -> bool:
    """Whether one can still sign up at ``at`` (None: whenever): not cancelled, not started."""
    return not workshop.cancelled and (at is None or at < workshop.starts)


def when(workshop: Workshop, zone: str, lang: str) -> str:
    """The workshop's day and time as the reader says them, in the reader's own zone, with
    the zone's abbreviation (CET, EST): "Monday 7 December, 14:00–15:30 (CET)"."""
    local = workshop.starts.astimezone(ZoneInfo(zone))
    day = format_date(local, "EEEE d MMMM", locale=lang)
    clock = format_time(local, "HH:mm", locale=lang)
    if workshop.minutes:
        end = local + timedelta(minutes=workshop.minutes)
        clock += "–" + format_time(end, "HH:mm", locale=lang)
    return f"{day}, {clock} ({local.tzname()})"


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
