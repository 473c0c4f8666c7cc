"""Universal Actions: the ``adaptiveCard/action`` invoke Teams sends for an ``Action.Execute``
(a press) or for a card's ``refresh`` (the card is being shown), answered within the request
with the card to show in place of the one pressed or shown.

A press runs the same turn code as an ``Action.Submit`` (``messages.on_press``); the next
question goes out as a message of its own, and the invoke is answered with the pressed card
settled: what it said, and the answer (or "closed"). A refresh runs nothing: a card whose
question is still open comes back as it is, one whose question has closed comes back settled.
Protocol: https://learn.microsoft.com/adaptive-cards/authoring-cards/universal-action-model
(``statusCode`` 200 and ``type`` ``application/vnd.microsoft.card.adaptive`` with the card as
``value``; ``application/vnd.microsoft.activity.message`` with a text; 400
``application/vnd.microsoft.error`` for a request that is not one of Regie's cards).
"""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.schema import Activity, ActivityTypes
from msrest.serialization import Model
from sqlmodel import Session

from bot.channels.teams.cards import (
    CARD_CONTENT_TYPE,
    REFRESH,
    activities,
    same_prompt,
    settled,
    settled_card,
)
from bot.channels.teams.messages import on_press, pressed, shown_now
from bot.channels.teams.sending import card_of, conversation_of
from bot.channels.teams.turns import TeamsTurns, off_loop
from dialogs.engine.replies import Prompt
from storage import teams_cards
from storage.models import TeamsCard

log = logging.getLogger(__name__)

INVOKE = "adaptiveCard/action"
"""The ``name`` of the invoke Teams sends for an ``Action.Execute`` or a card's refresh."""
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_TYPE = "application/vnd.microsoft.error"


class CardActionResponse(Model):
    """The body of the invoke response (botbuilder's ``AdaptiveCardInvokeResponse`` serialises
    only an object as ``value``; a message's ``value`` is a string)."""

    _attribute_map = {  # noqa: RUF012 (msrest reads it from the class)
        "status_code": {"key": "statusCode", "type": "int"},
        "type": {"key": "type", "type": "str"},
        "value": {"key": "value", "type": "object"},
    }

    def __init__(self, *, status_code: int, type: str, value: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.status_code = status_code
        self.type = type
        self.value = value


async def on_card_action(turns: TeamsTurns, context: TurnContext, person_id: int) -> None:
    action = _object(_object(context.activity.value).get("action"))
    data = _object(action.get("data"))
    if not pressed(data):
        log.info("an %s invoke without Regie's data (verb %r); refused", INVOKE, action.get("verb"))
        error = {"code": "BadRequest", "message": "Not an action on one of Regie's cards."}
        await answer(context, CardActionResponse(status_code=400, type=ERROR_TYPE, value=error))
        return
    card = None
    if action.get("verb") != REFRESH:
        card = await on_press(turns, context, person_id, data, in_place=True)
    shown = card if card is not None else await current(turns, context, person_id, data)
    if shown is None:  # a card of several parts no longer known: it stays
        t = turns.translator(await off_loop(turns.language, person_id))
        note = t("channel.answered", answer=str(data.get("label", ""))[:200])
        await answer(context, CardActionResponse(status_code=200, type=MESSAGE_TYPE, value=note))
        return
    await answer(context, CardActionResponse(status_code=200, type=CARD_CONTENT_TYPE, value=shown))


async def current(
    turns: TeamsTurns, context: TurnContext, person_id: int, data: dict[str, Any]
) -> dict[str, Any] | None:
    """The card ``replyToId`` names as it is to show now, nothing run: settled when it was, as
    sent while its question is open, settled to "closed" once the question has closed. A card
    no longer known (deleted by retention) is rebuilt from its question."""
    conversation, activity_id = conversation_of(context), context.activity.reply_to_id
    ref = data.get("regie")

    def look(db: Session) -> tuple[TeamsCard | None, str, Prompt | None]:
        """All a refresh reads, in one trip off the event loop: the card, the person's
        language, and the question they are asked now (for a card that asks one)."""
        found = teams_cards.find(db, conversation, activity_id) if activity_id else None
        if found is not None and found.settled:
            return found, "", None
        prompt = turns.open_prompt(db, person_id) if isinstance(ref, dict) else None
        return found, turns.language_in(db, person_id), prompt

    found, language, prompt = await turns.stored(look)
    if found is not None and found.settled:
        return shown_now(found)
    known = found.card if found is not None else None
    t = turns.translator(language)
    if not isinstance(ref, dict):  # a nudge's button: not a question, nothing closes
        if known is None and "p" in data:
            return settled_card(str(data["p"]), t("channel.closed"))
        return known
    if prompt is not None and same_prompt(ref, prompt):
        if known is not None:
            return known
        user = getattr(context.activity.from_property, "id", None)
        return card_of(activities([prompt], t, user=user)[-1])
    note = t("channel.closed")
    return settled(known, note) if known else settled_card(str(ref.get("p", "")), note)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def answer(context: TurnContext, body: CardActionResponse) -> None:
    """The invoke's answer, sent back as the response to Teams' request."""
    response = InvokeResponse(status=body.status_code, body=body)
    await context.send_activity(Activity(type=ActivityTypes.invoke_response, value=response))
