"""Replies into a Teams chat: the rendered activities sent (each card remembered by the id Teams
gave it), and a card settled after its question was answered, by a press or by typing (a pressed
card is answered in place by an invoke response, or updated after an ``Action.Submit``; the
others are updated)."""

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
    person_id: int,
) -> None:
    user = getattr(context.activity.from_property, "id", None)
    rendered = activities(replies, t, user=user)
    if not rendered:
        return
    sent = await context.send_activities([to_activity(a) for a in rendered])
    prompt = next((r for r in reversed(replies) if isinstance(r, Prompt)), None)
    conversation = conversation_of(context)
    for n, (data, response) in enumerate(zip(rendered, sent or [], strict=False)):
        content = card_of(data)
        if content is None or response is None or not getattr(response, "id", None):
            continue
        asks = prompt if n == len(rendered) - 1 else None  # the question is in the last one
        await cards.remember(conversation, person_id, response.id, content, asks)


async def settle(
    context: TurnContext,
    ref: dict[str, Any],
    handled: Handled,
    label: str,
    t: Translate,
    *,
    cards: SentCards,
    person_id: int,
) -> dict[str, Any] | None:
    """After a press: the pressed card as it is to show now — what it said, its inputs and
    buttons given way to the answer (or "closed") — or None when the question is still open
    (the card can be pressed again). Other cards that asked the same question are updated to
    match."""
    conversation, activity_id = conversation_of(context), context.activity.reply_to_id
    known = await cards.find(conversation, activity_id)
    if handled.outcome not in (Outcome.HANDLED, Outcome.STALE):
        if known is not None and activity_id:
            await cards.finish(conversation, activity_id, None)
        return None
    note = (
        t("channel.answered", answer=label[:200])
        if handled.outcome == Outcome.HANDLED
        else t("channel.closed")
    )
    content = settled(known.sent, note) if known else settled_card(str(ref.get("p", "")), note)
    if activity_id:
        await cards.finish(conversation, activity_id, content)
    if handled.outcome == Outcome.HANDLED and known is not None and known.asking:
        # the same question asked again, on other cards
        await settle_cards(context, cards, await cards.settled(person_id), note)
    return content


async def settle_cards(
    context: TurnContext, cards: SentCards, asked: list[Asked], note: str
) -> None:
    """Cards whose question was answered some other way (typed, or on another card): settled
    with ``note``, unless something settled them first."""
    for card in asked:
        await show(context, cards, card.activity_id, settled(card.card, note))


async def show(
    context: TurnContext, cards: SentCards, activity_id: str, content: dict[str, Any]
) -> None:
    """A card sent earlier, settled: remembered as it now shows and updated in the chat (if
    nothing settled it first)."""
    if await cards.settle(conversation_of(context), activity_id, content):
        await update(context, activity_id, content)


def conversation_of(context: TurnContext) -> str:
    """The conversation a card lives in (activity ids are unique only within it)."""
    return str(getattr(context.activity.conversation, "id", "") or "")


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


def card_of(data: dict[str, Any]) -> dict[str, Any] | None:
    """The Adaptive Card a rendered activity carries, if any."""
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
