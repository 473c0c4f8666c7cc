"""The senders the delivery worker uses: one per configured chat channel, Slack first."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from bot.config import Settings
from bot.delivery import Sender
from dialogs.engine.runtime import Runtime


def build_senders(
    settings: Settings, runtime: Runtime, engine: Engine, *, teams_bot: Any = None
) -> list[Sender]:
    senders: list[Sender] = []
    if settings.slack_enabled:
        from bot.channels.slack.client import web_client
        from bot.channels.slack.outbound import SlackSender

        senders.append(
            SlackSender(
                web_client(settings), runtime.content, engine, rate=settings.slack_send_rate
            )
        )
    if settings.teams_enabled:
        from bot.channels.teams.adapter import build_teams
        from bot.channels.teams.outbound import TeamsSender

        bot = teams_bot or build_teams(runtime, engine, settings)
        senders.append(
            TeamsSender(
                bot,
                rate=settings.teams_send_rate,
                per_conversation=settings.teams_sends_per_conversation,
            )
        )
    return senders
