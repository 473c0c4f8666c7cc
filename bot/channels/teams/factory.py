"""The Teams channel for the registry: the Bot Framework endpoint on ``/api/messages``, and the
outbox's sender (proactive messages through the same adapter)."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.channels.registry import Running, where
from bot.channels.teams.adapter import build_teams, messages_handler
from bot.channels.teams.bot import TeamsBot
from bot.channels.teams.outbound import TeamsSender
from bot.config import Settings
from dialogs.engine.runtime import Runtime

MESSAGES = "/api/messages"
UNAUTHENTICATED = (
    "TEAMS WITHOUT AUTHENTICATION (REGIE_TEAMS_ALLOW_UNAUTHENTICATED=true): anyone who can reach "
    "{where} can talk to Regie as anyone. Use this for local development only."
)


def start(runtime: Runtime, engine: Engine, settings: Settings) -> Running:
    bot = build_teams(runtime, engine, settings)
    return Running(
        _sender(bot, settings),
        routes={MESSAGES: messages_handler(bot)},
        notes=(f"Teams: Bot Framework endpoint at {where(settings)}{MESSAGES}",),
        warnings=()
        if settings.microsoft_app_id
        else (UNAUTHENTICATED.format(where=where(settings)),),
    )


def sender(runtime: Runtime, engine: Engine, settings: Settings) -> TeamsSender:
    return _sender(build_teams(runtime, engine, settings), settings)


def _sender(bot: TeamsBot, settings: Settings) -> TeamsSender:
    return TeamsSender(
        bot, rate=settings.teams_send_rate, per_conversation=settings.teams_sends_per_conversation
    )
