"""The Slack channel: a Bolt app whose listeners only translate.

Inbound: a DM, a button, a modal, ``/regie`` or an App Home button becomes a ``Turn``
(``listeners/``, one module per kind); outbound: the replies become Block Kit messages in the
person's DM (``turns.py``). Bolt acknowledges every request before the listener runs
(``process_before_response=False``), so Slack gets its answer within 3 s and the dialog work
happens after. Retried deliveries carry the same ``event_id``; the runtime's inbound
de-duplication makes them a no-op.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.channels.slack import listeners
from bot.channels.slack.client import web_client
from bot.channels.slack.people import SlackPeople
from bot.channels.slack.turns import SlackTurns
from bot.config import Settings
from dialogs.engine.runtime import Runtime


class SlackChannel:
    def __init__(
        self,
        runtime: Runtime,
        engine: Engine,
        settings: Settings,
        *,
        client: WebClient | None = None,
    ) -> None:
        assert settings.slack_bot_token is not None and settings.slack_signing_secret is not None
        self.runtime = runtime
        self.client = client or web_client(settings)
        self.turns = SlackTurns(
            runtime, engine, settings, self.client, SlackPeople(engine, self.client, settings)
        )
        self.app = App(
            client=self.client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            process_before_response=False,
            logger=logging.getLogger("regie.slack.bolt"),
        )
        listeners.register(self.app, self.turns)

    def connect_socket_mode(self, app_token: str) -> None:
        """Receive events over Socket Mode (no public URL needed) instead of HTTP."""
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        SocketModeHandler(self.app, app_token).connect()
