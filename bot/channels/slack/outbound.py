"""Proactive Slack messages for the outbox: a DM to the person's Slack user (``chat.postMessage``
with a user id opens the app DM). Each message carries its idempotency key in Slack message
``metadata``, so a resend after a crash can be recognised."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine

from bot.channels.slack.blocks import Translate, messages
from bot.delivery import SendResult
from bot.ratelimit import AdaptiveRate
from dialogs.content import Content
from dialogs.replies import Reply
from storage.addresses import address_of, save_address
from storage.db import session_scope
from storage.models import Person, utcnow

log = logging.getLogger(__name__)

PERMANENT = {
    "user_not_found",
    "channel_not_found",
    "is_archived",
    "account_inactive",
    "user_disabled",
    "not_in_channel",
    "cannot_dm_bot",
    "messages_tab_disabled",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "missing_scope",
}


class SlackSender:
    channel = "slack"

    def __init__(
        self, client: WebClient, content: Content, engine: Engine, *, rate: float = 10.0
    ) -> None:
        self.client = client
        self.content = content
        self.engine = engine
        self.limiter = AdaptiveRate(rate, per_conversation=1.0)
        self._dms: dict[int, str] = {}

    def can_reach(self, person: Person) -> bool:
        return bool(person.slack_user_id)

    async def already_sent(self, person: Person, *, key: str, since: datetime) -> bool:
        return await asyncio.get_running_loop().run_in_executor(
            None, self._in_history, person, key, since
        )

    def _in_history(self, person: Person, key: str, since: datetime) -> bool:
        """Look for the key in the metadata of the DM's recent messages."""
        try:
            channel = self._dm_channel(person)
            history = self.client.conversations_history(
                channel=channel,
                # Slack's clock, not ours (run-due may run at a simulated instant)
                oldest=f"{min(since.timestamp(), time.time()) - 300:.6f}",
                limit=200,
                include_all_metadata=True,
            )
        except SlackApiError as error:
            log.warning("could not read DM history to reconcile: %s", error.response.get("error"))
            return False
        for message in history.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("key") == key:
                return True
        return False

    def _dm_channel(self, person: Person) -> str:
        """The person's DM channel id: ``conversations.open`` once per person, then stored."""
        assert person.id is not None
        if person.id in self._dms:
            return self._dms[person.id]
        with session_scope(self.engine) as db:
            stored = address_of(db, person.id, "slack")
            if stored and stored.get("dm"):
                channel = str(stored["dm"])
            else:
                opened = self.client.conversations_open(users=str(person.slack_user_id))
                channel = str(opened["channel"]["id"])
                save_address(db, person.id, "slack", {"dm": channel}, now=utcnow())
        self._dms[person.id] = channel
        return channel

    async def send(self, person: Person, replies: Sequence[Reply], *, key: str) -> SendResult:
        return await asyncio.get_running_loop().run_in_executor(
            None, self._send, person, list(replies), key
        )

    def _send(self, person: Person, replies: list[Reply], key: str) -> SendResult:
        language = person.language

        def t(text_key: str, **values: Any) -> str:
            return self.content.text(language, text_key, **values)

        translate: Translate = t
        metadata = {"event_type": "regie_outbound", "event_payload": {"key": key}}
        try:
            for message in messages(replies, translate):
                self.client.chat_postMessage(
                    channel=str(person.slack_user_id),
                    text=message.text,
                    blocks=message.blocks,
                    metadata=metadata,
                )
        except SlackApiError as error:
            code = str(error.response.get("error") or error.response.status_code)
            status = error.response.status_code
            if status == 429 or code == "ratelimited":
                retry = error.response.headers.get("Retry-After", "1")
                return SendResult(False, error="rate limited", retry_after=float(retry))
            return SendResult(False, permanent=code in PERMANENT, error=code)
        except OSError as error:  # timeouts, refused connections
            return SendResult(False, error=f"{type(error).__name__}")
        return SendResult(True)
