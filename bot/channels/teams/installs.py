"""Regie added to a personal chat (``conversationUpdate`` with a new member, or
``installationUpdate`` add): the conversation reference is stored (by ``TeamsTurns``) and the
person welcomed, once, with the time zone of their Teams client proposed when the activity
carries one. Removed: the reference is forgotten."""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext

from bot.channels.teams.addresses import CHANNEL
from bot.channels.teams.sending import send
from bot.channels.teams.turns import TeamsTurns, client_timezone, inbound_id, off_loop, user_of
from dialogs.engine.turn import Turn

log = logging.getLogger(__name__)


async def on_install(turns: TeamsTurns, context: TurnContext, person_id: int) -> None:
    zone = client_timezone(context.activity)
    if zone:
        await off_loop(turns.people.propose_timezone, person_id, zone)
    turn = Turn(
        person_id=person_id,
        intent="greet",
        inbound_id=inbound_id(context.activity),
        channel=CHANNEL,
    )
    handled = await turns.handle(turn)
    t = turns.translator(handled.language)
    await send(context, handled.replies, t, cards=turns.cards, person_id=person_id)


async def on_uninstall(turns: TeamsTurns, context: TurnContext) -> None:
    person_id = await off_loop(turns.people.cached, user_of(context.activity).key)
    if person_id is not None:
        await off_loop(turns.addresses.forget, person_id)
    log.info("Regie was removed from a personal chat")
