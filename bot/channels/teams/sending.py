"""Replies into a Teams chat: the rendered activities sent, and a submitted card settled."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment

from bot.channels.teams.cards import CARD_CONTENT_TYPE, Translate, activities, settled_card
from dialogs.engine.replies import Reply
from dialogs.engine.runtime import Handled, Outcome

log = logging.getLogger(__name__)


async def send(context: TurnContext, replies: Sequence[Reply], t: Translate) -> None:
    outgoing = [to_activity(a) for a in activities(replies, t)]
    if outgoing:
        await context.send_activities(outgoing)


async def settle(
    context: TurnContext, ref: dict[str, Any], handled: Handled, label: str, t: Translate
) -> None:
    """Replace the submitted card by its question and the answer: no dangling inputs."""
    if handled.outcome not in (Outcome.HANDLED, Outcome.STALE):
        return
    note = (
        t("channel.answered", answer=label[:200])
        if handled.outcome == Outcome.HANDLED
        else t("channel.closed")
    )
    update = Activity(
        id=context.activity.reply_to_id,
        type=ActivityTypes.message,
        attachments=[
            Attachment(
                content_type=CARD_CONTENT_TYPE, content=settled_card(str(ref.get("p", "")), note)
            )
        ],
    )
    try:
        await context.update_activity(update)
    except Exception as error:
        log.info("could not update a submitted card: %s", type(error).__name__)


def to_activity(data: dict[str, Any]) -> Activity:
    """A rendered activity as the SDK's type (built directly: msrest deserialising is slow)."""
    return Activity(
        type=data["type"],
        text=data.get("text"),
        text_format=data.get("textFormat"),
        attachments=[
            Attachment(content_type=a["contentType"], content=a["content"])
            for a in data.get("attachments", [])
        ]
        or None,
    )
