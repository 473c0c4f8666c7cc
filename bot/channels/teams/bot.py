"""The Teams channel: a Bot Framework bot whose handlers only translate.

``on_turn`` routes each activity of a personal chat to its handler: a message (``messages.py``),
a Universal Action on a card (the ``adaptiveCard/action`` invoke, ``actions.py``) or Regie added
or removed (``installs.py``); a team's activities go to ``team.py`` (the stories channel);
everything else is ignored (an invoke left unanswered is 501).
``turns.py`` runs each person's turns in order and keeps their conversation reference, through
which ``notify`` (``notify.py``) sends proactive messages. Bot Framework types stay inside this
folder.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from botbuilder.core import Bot, BotAdapter, TurnContext
from botbuilder.schema import ActivityTypes
from sqlalchemy.engine import Engine

from bot.channels.teams import actions, installs, messages, team
from bot.channels.teams.notify import notify
from bot.channels.teams.turns import TeamsTurns
from bot.config import Settings
from bot.senders import SendResult
from dialogs.engine.replies import Reply
from dialogs.engine.runtime import Runtime

log = logging.getLogger(__name__)


class TeamsBot(Bot):
    def __init__(
        self, runtime: Runtime, engine: Engine, settings: Settings, adapter: BotAdapter
    ) -> None:
        self.runtime = runtime
        self.settings = settings
        self.adapter = adapter
        self.turns = TeamsTurns(runtime, engine, settings)

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        conversation_type = getattr(activity.conversation, "conversation_type", None)
        if conversation_type == "channel":  # a team: for the stories channel (team.py)
            await team.on_team_activity(self.turns, context)
            return
        if conversation_type not in (None, "personal"):
            log.debug("ignored a Teams %s activity outside personal chat", activity.type)
            return
        if activity.type == ActivityTypes.message:
            await self.turns.with_person(context, messages.on_message)
        elif activity.type == ActivityTypes.invoke and activity.name == actions.INVOKE:
            await self.turns.with_person(context, actions.on_card_action)
        elif activity.type == ActivityTypes.conversation_update and any(
            member.id != activity.recipient.id for member in activity.members_added or []
        ):
            await self.turns.with_person(context, installs.on_install)
        elif activity.type == ActivityTypes.installation_update:
            if (activity.action or "").startswith("add"):
                await self.turns.with_person(context, installs.on_install)
            else:
                await installs.on_uninstall(self.turns, context)
        else:
            log.debug("ignored Teams activity of type %s %s", activity.type, activity.name or "")

    async def notify(self, person_id: int, replies: Sequence[Reply]) -> SendResult:
        """A proactive message through the stored conversation reference."""
        return await notify(self.turns, self.adapter, person_id, replies)
