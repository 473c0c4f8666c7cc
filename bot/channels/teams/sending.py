"""Replies into a Teams chat: the rendered activities sent (each card remembered by the id Teams
gave it), and a card settled after its question was answered, by a tap or by typing."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.channels.teams.cards import (
    CARD_CONTENT_TYPE,
    Translate,
    activities,
    settled,
    settled_card,
)
from bot.channels.teams.sent import Asked, SentCards
from dialogs.engine.replies import Prompt, Reply
from dialogs.engine.runtime import Handled, Outcome

log = logging.getLogger(__name__)


async def send(
    context: TurnContext,
    replies: Sequence[Reply],
    t: Translate,
    *,
    cards: SentCards,
    person_id: int | None = None,
) -> None:
    rendered = activities(replies, t)
    if not rendered:
        return
    sent = await context.send_activities([to_activity(a) for a in rendered])
    prompt = next((r for r in reversed(replies) if isinstance(r, Prompt)), None)
    for n, (data, response) in enumerate(zip(rendered, sent or [], strict=False)):
        content = _card(data)
        if content is None or response is None or not getattr(response, "id", None):
            continue
        asks = prompt if n == len(rendered) - 1 else None  # the question is in the last one
        cards.remember(person_id, response.id, content, asks)


async def settle(
    context: TurnContext,
    ref: dict[str, Any],
    handled: Handled,
    label: str,
    t: Translate,
    *,
    cards: SentCards,
    person_id: int,
) -> None:
    """After a tap: the card keeps what it said, its inputs and buttons give way to the answer
    (or "closed")."""
    if handled.outcome not in (Outcome.HANDLED, Outcome.STALE):
        return
    note = (
        t("channel.answered", answer=label[:200])
        if handled.outcome == Outcome.HANDLED
        else t("channel.closed")
    )
    activity_id = context.activity.reply_to_id
    known = cards.card(activity_id)
    content = settled(known, note) if known else settled_card(str(ref.get("p", "")), note)
    await update(context, activity_id, content)
    asking = cards.asked(person_id)
    if handled.outcome == Outcome.HANDLED and any(a.activity_id == activity_id for a in asking):
        for other in cards.settled(person_id):  # the same question asked again, on other cards
            if other.activity_id != activity_id:
                await update(context, other.activity_id, settled(other.card, note))


async def settle_cards(context: TurnContext, asked: list[Asked], note: str) -> None:
    """Cards whose question was answered some other way (typed): settled with ``note``."""
    for card in asked:
        await update(context, card.activity_id, settled(card.card, note))


async def update(context: TurnContext, activity_id: str | None, content: dict[str, Any]) -> None:
    update = Activity(
        id=activity_id,
        type=ActivityTypes.message,
        attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=content)],
    )
    try:
        await context.update_activity(update)
    except Exception as error:
        log.info("could not update a card: %s", type(error).__name__)


def _card(data: dict[str, Any]) -> dict[str, Any] | None:
    for attachment in data.get("attachments", []):
        if attachment.get("contentType") == CARD_CONTENT_TYPE:
            return dict(attachment["content"])
    return None


def to_activity(data: dict[str, Any]) -> Activity:
    """A rendered activity as the SDK's type (built directly: msrest deserialising is slow)."""
    return Activity(
        type=data["type"],
        text=data.get("text"),
        text_format=data.get("textFormat"),
        summary=data.get("summary"),
        attachments=[
            Attachment(content_type=a["contentType"], content=a["content"])
            for a in data.get("attachments", [])
        ]
        or None,
    )
