"""A campaign's preview for one recipient, language and channel: each step's messages as that
channel's own code renders them (``dialogs.campaigns.messages.message``, then Teams'
``bot.channels.teams.cards.activities``, Slack's ``bot.channels.slack.blocks.messages`` or the
console's ``render_with_buttons``) and when they would go out (``planner.send_at``) — the
code of ``regie campaign preview``. The Teams cards are drawn in the page by Microsoft's
Adaptive Cards renderer; Slack's blocks are approximated in HTML."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.channels.console import render_with_buttons
from bot.channels.slack.blocks import messages as slack_messages
from bot.channels.teams.cards import activities
from bot.config import Settings
from bot.wiring import policy
from dialogs.campaigns.messages import language_of, message
from dialogs.campaigns.planner import send_at
from dialogs.campaigns.spec import CampaignSpec
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import LANGUAGES, Content
from storage import campaigns as stored
from storage.models import Person
from storage.people import by_email

CHANNELS = ("teams", "slack", "console")
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


@dataclass(frozen=True)
class SlackBlock:
    kind: str
    """``text`` (a section, header or context) or ``buttons``; ``divider``."""
    text: str = ""
    buttons: list[str] = field(default_factory=list)
    small: bool = False


@dataclass(frozen=True)
class TeamsPart:
    card: str | None
    """The Adaptive Card as JSON (drawn by the page's renderer), or None for plain text."""
    text: str = ""


@dataclass(frozen=True)
class StepPreview:
    step: str
    day: int
    at: datetime | None
    only: str
    console: str = ""
    slack: list[list[SlackBlock]] = field(default_factory=list)
    teams: list[TeamsPart] = field(default_factory=list)


@dataclass(frozen=True)
class Preview:
    person: Person
    lang: str
    channel: str
    steps: list[StepPreview]


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return str(value or "")


def slack_blocks(blocks: list[dict[str, Any]]) -> list[SlackBlock]:
    """Slack's blocks as the page shows them: text, the buttons' labels, a divider."""
    shown = []
    for block in blocks:
        kind = block.get("type")
        if kind in ("section", "header"):
            shown.append(SlackBlock("text", _text(block.get("text"))))
            for f in block.get("fields", []) or []:
                shown.append(SlackBlock("text", _text(f)))
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and accessory.get("type") == "button":
                shown.append(SlackBlock("buttons", buttons=[_text(accessory.get("text"))]))
        elif kind == "context":
            text = " ".join(_text(e) for e in block.get("elements", []))
            shown.append(SlackBlock("text", text, small=True))
        elif kind == "actions":
            labels = []
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    labels.append(_text(element.get("text")))
                else:  # a menu: its options
                    labels += [_text(o.get("text")) for o in element.get("options", [])]
            shown.append(SlackBlock("buttons", buttons=labels))
        elif kind == "divider":
            shown.append(SlackBlock("divider"))
        elif kind == "input":
            shown.append(SlackBlock("text", _text(block.get("label"))))
    return shown


def teams_parts(sent: list[dict[str, Any]]) -> list[TeamsPart]:
    parts = []
    for activity in sent:
        cards = [
            a.get("content")
            for a in activity.get("attachments", []) or []
            if a.get("contentType") == ADAPTIVE_CARD
        ]
        if cards:
            parts += [TeamsPart(json.dumps(c, ensure_ascii=False)) for c in cards]
        else:
            parts.append(TeamsPart(None, str(activity.get("text", ""))))
    return parts


def preview(
    content: Content,
    spec: CampaignSpec,
    person: Person,
    *,
    campaign_id: int,
    lang: str,
    channel: str,
    policy: NudgePolicy,
) -> Preview:
    """``lang``: the language to show (``""``: the person's own, as the campaign picks it)."""
    shown = person.model_copy(update={"language": lang}) if lang in LANGUAGES else person
    used = language_of(spec, shown)

    def t(key: str, **values: Any) -> str:
        return content.text(used, key, **values)

    steps = []
    for step in spec.steps:
        replies = message(content, spec, campaign_id, step, shown)
        only = f"{step.only[0]}:{step.only[1]}" if step.only else ""
        at = send_at(spec, step, shown, policy)
        if channel == "teams":
            steps.append(
                StepPreview(step.id, step.day, at, only, teams=teams_parts(activities(replies, t)))
            )
        elif channel == "slack":
            posts = [slack_blocks(m.blocks) for m in slack_messages(replies, t)]
            steps.append(StepPreview(step.id, step.day, at, only, slack=posts))
        else:
            buttons: dict[str, str] = {}
            text = "\n\n".join(render_with_buttons(r, buttons) for r in replies)
            steps.append(StepPreview(step.id, step.day, at, only, console=text))
    return Preview(shown, used, channel, steps)


def for_choice(
    db: Session,
    content: Content,
    settings: Settings,
    spec: CampaignSpec,
    recipients: Sequence[Person],
    choice: Mapping[str, str],
) -> Preview | None:
    """The preview a page's "preview as" fields ask for (``as``: an e-mail address, else the
    first recipient; ``lang``; ``channel``, else Teams): the one way the editor and the
    approval page pick what to show. None when there is nobody to show it for."""
    wanted = choice.get("as", "")
    person = by_email(db, wanted) if wanted else None
    if person is None and recipients:
        person = recipients[0]
    if person is None:
        return None
    existing = stored.by_slug(db, spec.id)
    channel = choice.get("channel", "")
    return preview(
        content,
        spec,
        person,
        campaign_id=existing.id if existing is not None and existing.id else 0,
        lang=choice.get("lang", ""),
        channel=channel if channel in CHANNELS else "teams",
        policy=policy(settings),
    )
