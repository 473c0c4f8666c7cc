"""``/regie <word>``: the same intent words as typing; an unknown word is answered privately
(in the person's language) and starts nothing.

The conversation always happens in the person's DM with Regie. Typed anywhere else (a channel,
a DM with someone), ``/regie`` also says so there, in the command's answer that only they see:
without it the command would seem to do nothing."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.channels.slack.blocks import escape
from bot.channels.slack.turns import SlackTurns
from dialogs.engine.text import normalise_keyword


def register(app: App, turns: SlackTurns) -> None:
    @app.command("/regie")
    def on_command(ack: Ack, command: dict[str, Any]) -> None:
        word = normalise_keyword(command.get("text") or "")
        intent = turns.runtime.content.intents.get(word) if word else "menu"
        user = command["user_id"]
        if intent is None:
            t = turns.translator(turns.language(turns.person(user)))
            unknown = t("channel.unknown_command", command=(command.get("text") or "")[:50])
            ack(text=escape(unknown), response_type="ephemeral")
            return
        if command.get("channel_id") != turns.dm_of(user):
            t = turns.translator(turns.language(turns.person(user)))
            ack(text=escape(t("channel.continues_in_dm")), response_type="ephemeral")
        else:
            ack()
        turns.converse(
            user, user, intent=intent, inbound_id=f"slack:cmd:{command.get('trigger_id')}"
        )
