"""Regie added to a personal chat (``conversationUpdate`` with a new member, or
``installationUpdate`` add): the conversation reference is stored (by ``TeamsTurns``) and the
person welcomed, once. Removed: the reference is forgotten."""

from __future__ import annotations

import logging

from botbuilder.core import TurnContext

from bot.channels.teams.addresses import CHANNEL
from bot.channels.teams.sending import send
from bot.channels.teams.turns import TeamsTurns, inbound_id, off_loop, user_of
from dialogs.engine.turn import Turn

log = logging.getLogger(__name__)


async def on_install(turns: TeamsTurns, context: TurnContext, person_id: int) -> None:
    turn = Turn(
        person_id=person_id,
        intent="greet",
        inbound_id=inbound_id(context.activity),
        channel=CHANNEL,
    )
    handled = await turns.handle(turn)
    await send(context, handled.replies, turns.translator(handled.language))


async def on_uninstall(turns: TeamsTurns, context: TurnContext) -> None:
    person_id = await off_loop(turns.people.cached, user_of(context.activity).key)
    if person_id is not None:
        await off_loop(turns.addresses.forget, person_id)
    log.info("Regie was removed from a personal chat")
