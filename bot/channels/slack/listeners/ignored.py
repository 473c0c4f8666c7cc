"""Registered last: any other event (and a message that is not a person's DM) is acknowledged,
logged at debug level and ignored, so Slack does not retry it."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App

from bot.channels.slack.turns import SlackTurns

log = logging.getLogger(__name__)


def register(app: App, turns: SlackTurns) -> None:
    @app.event(re.compile(".*"))
    def on_other_event(event: dict[str, Any]) -> None:
        log.debug(
            "ignored Slack event of type %s (subtype=%s)", event.get("type"), event.get("subtype")
        )
