"""The Bot Framework adapter and the ``/api/messages`` route.

With ``MICROSOFT_APP_ID`` set every request's JWT is validated (CloudAdapter; proactive sends
reuse their clients, bot/channels/teams/proactive.py). With
``REGIE_TEAMS_ALLOW_UNAUTHENTICATED=true`` and no app id, authentication is disabled: for local
development (the Agents Playground, tests) only.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from msrest.universal_http.requests import ClientRetryPolicy
from sqlalchemy.engine import Engine

from bot.channels.teams.bot import TeamsBot
from bot.channels.teams.proactive import ReusingCloudAdapter
from bot.config import Settings
from dialogs.engine.runtime import Runtime
from storage.people import language_from_locale

log = logging.getLogger(__name__)

# msrest builds a retry policy for every connector client (one or more per proactive message)
# with `[i for i in range(999) if i not in safe_codes]`, where safe_codes is a 502-item list:
# ~5 ms of CPU each time. The same codes as a frozenset give the same policy in microseconds.
ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


class _BotConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.microsoft_app_id or ""
        self.APP_PASSWORD = (
            settings.microsoft_app_password.get_secret_value()
            if settings.microsoft_app_password
            else ""
        )
        self.APP_TYPE = settings.microsoft_app_type
        self.APP_TENANTID = settings.microsoft_app_tenant_id or ""


def build_adapter(settings: Settings) -> ReusingCloudAdapter:
    """The Bot Framework adapter for ``settings`` (alone: for sends outside a turn)."""
    return ReusingCloudAdapter(ConfigurationBotFrameworkAuthentication(_BotConfig(settings)))


def build_teams(runtime: Runtime, engine: Engine, settings: Settings) -> TeamsBot:
    adapter = build_adapter(settings)
    bot = TeamsBot(runtime, engine, settings, adapter)

    async def on_error(context: TurnContext, error: Exception) -> None:
        log.error("Teams turn failed: %s", error, exc_info=error)
        language = language_from_locale(context.activity.locale, settings.language)
        await context.send_activity(runtime.content.text(language, "channel.error"))

    adapter.on_turn_error = on_error
    return bot


def messages_handler(bot: TeamsBot) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        response = await bot.adapter.process(request, bot)
        return response if response is not None else web.Response(status=201)

    return handle
