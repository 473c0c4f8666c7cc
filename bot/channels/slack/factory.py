"""The Slack channel for the registry: Events API on ``/slack/events`` (or Socket Mode when an
app token is set), and the outbox's sender."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.channels.registry import Running, where
from bot.channels.slack.app import SlackChannel
from bot.channels.slack.client import web_client
from bot.channels.slack.http import events_handler
from bot.channels.slack.outbound import SlackSender
from bot.config import Settings
from dialogs.engine.runtime import Runtime

EVENTS = "/slack/events"


def start(runtime: Runtime, engine: Engine, settings: Settings) -> Running:
    slack = SlackChannel(runtime, engine, settings)
    outbox = sender(runtime, engine, settings)
    if settings.slack_app_token is not None:
        slack.connect_socket_mode(settings.slack_app_token.get_secret_value())
        return Running(outbox, notes=("Slack: Socket Mode connected.",))
    return Running(
        outbox,
        routes={EVENTS: events_handler(slack.app)},
        notes=(f"Slack: Events API at {where(settings)}{EVENTS}",),
    )


def sender(runtime: Runtime, engine: Engine, settings: Settings) -> SlackSender:
    return SlackSender(web_client(settings), runtime.content, engine, rate=settings.slack_send_rate)
