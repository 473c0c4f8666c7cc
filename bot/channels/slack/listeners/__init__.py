"""The Slack app's listeners, one module per kind of request. Bolt tries them in the order
they are registered, so the catch-all for other events comes last."""

from __future__ import annotations

from slack_bolt import App

from bot.channels.slack.listeners import (
    actions,
    commands,
    home,
    ignored,
    lifecycle,
    messages,
    modals,
)
from bot.channels.slack.turns import SlackTurns


def register(app: App, turns: SlackTurns) -> None:
    for kind in (messages, actions, modals, commands, home, lifecycle, ignored):
        kind.register(app, turns)
