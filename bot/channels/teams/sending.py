"""Replies into a Teams chat: the rendered activities sent (each card remembered by the id Teams
gave it), and a card settled after its question was answered, by a press or by typing (a pressed
card is answered in place by an invoke response, or updated after an ``Action.Submit``; the
others are updated).

Settling is stored with the turn that answered, in its transaction (:func:`settle_press`,
:func:`settle_asked`, run through ``Runtime.handle_turn_and``): one commit, before the reply,
for the answer and the cards it settles; the chat is updated after (:func:`show`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ActivityTypes, Attachment
from sqlmodel import Session

from bot.channels.teams.cards import (
    CARD_CONTENT_TYPE,
    Translate,
    activities,
    settled,
    settled_card,
)
from bot.channels.teams.sent import SentCards
from dialogs.engine.replies import Prompt, Reply
from dialogs.engine.runtime import Handled, Outcome
from storage import teams_cards

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
    remembered = []
    for n, (data, response) in enumerate(zip(rendered, sent or [], strict=False)):
        content = card_of(data)
        if content is None or response is None or not getattr(response, "id", None):
            continue
        asks = prompt if n == len(rendered) - 1 else None  # the question is in the last one
        remembered.append(cards.remember(conversation, person_id, response.id, content, asks))
    await asyncio.gather(*remembered)  # queued together: stored in one transaction


Shown = tuple[str, dict[str, Any]]
"""A card settled in the database, to be updated in the chat: its activity id, and what it
shows now."""


@dataclass(frozen=True)
class Settled:
    """What settling after a press stored with the turn: the pressed card as it is to show now
    (None: it stays as it is, the question still open), and the other cards that asked the
    same question, settled to match."""

    card: dict[str, Any] | None = None
    others: tuple[Shown, ...] = ()


def settle_press(
    db: Session,
    handled: Handled,
    *,
    conversation: str,
    activity_id: str | None,
    ref: dict[str, Any],
    label: str,
    person_id: int,
    translator: Callable[[str], Translate],
) -> Settled:
    """After a press, in the turn's transaction (``Runtime.handle_turn_and``): the pressed card
    as it is to show now — what it said, its inputs and buttons given way to the answer (or
    "closed") — or None when the question is still open (the card can be pressed again).
    Other cards that asked the same question are settled to match."""
    known = teams_cards.find(db, conversation, activity_id) if activity_id else None
    if handled.outcome not in (Outcome.HANDLED, Outcome.STALE):
        if known is not None and activity_id:
            teams_cards.finish(db, conversation, activity_id, None)
        return Settled()
    t = translator(handled.language)
    note = (
        t("channel.answered", answer=label[:200])
        if handled.outcome == Outcome.HANDLED
        else t("channel.closed")
    )
    content = settled(known.card, note) if known else settled_card(str(ref.get("p", "")), note)
    if activity_id:
        teams_cards.finish(db, conversation, activity_id, content)
    others: tuple[Shown, ...] = ()
    if handled.outcome == Outcome.HANDLED and known is not None and known.asking:
        # the same question asked again, on other cards
        others = settle_asked(db, conversation, person_id, note)
    return Settled(content, others)


def settle_asked(db: Session, conversation: str, person_id: int, note: str) -> tuple[Shown, ...]:
    """The person's last question was answered some other way (typed, or on another card): its
    cards no longer ask it, and are settled with ``note`` unless something settled them
    first. Those to update in the chat (:func:`show`)."""
    shown = []
    for row in teams_cards.stop_asking(db, person_id):
        if row.prompt is None:
            continue
        card = settled(row.card, note)
        if teams_cards.settle(db, conversation, row.activity_id, card):
            shown.append((row.activity_id, card))
    return tuple(shown)


async def show(context: TurnContext, shown: Sequence[Shown]) -> None:
    """Cards settled in the database, updated in the chat."""
    for activity_id, content in shown:
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


class Outgoing(Activity):
    """An activity built for one send. ``TurnContext.send_activities`` deep-copies what it
    sends, to spare a caller that reuses an activity the addressing it sets on it; that copied
    every card whole, on every reply. It sets only top-level fields (the conversation, the
    sender, ``replyToId``), so a shallow copy spares the original as well."""

    def __deepcopy__(self, _memo: dict[int, Any]) -> Outgoing:
        return copy(self)


def to_activity(data: dict[str, Any]) -> Activity:
    """A rendered activity as the SDK's type (built directly: msrest deserialising is slow)."""
    return Outgoing(
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
