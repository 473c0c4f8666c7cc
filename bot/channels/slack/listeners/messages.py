"""A direct message to the bot becomes a text turn. Edits, bots' messages and messages in
other conversations do not match (a Bolt listener matcher) and fall to ``ignored``."""

from __future__ import annotations

import html
from typing import Any

from slack_bolt import App

from bot.channels.slack.turns import SlackTurns


def from_a_person_in_dm(event: dict[str, Any]) -> bool:
    return (
        event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id")
    )


def register(app: App, turns: SlackTurns) -> None:
    @app.event("message", matchers=[from_a_person_in_dm])
    def on_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        turns.dms[event["user"]] = event["channel"]
        turns.converse(
            event["user"],
            event["channel"],
            text=html.unescape(event.get("text") or ""),
            inbound_id=f"slack:{body.get('event_id') or event.get('ts')}",
        )
