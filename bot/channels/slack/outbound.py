"""Proactive Slack messages for the outbox: a DM to the person's Slack user (``chat.postMessage``
with a user id opens the app DM). Each message carries its idempotency key in Slack message
``metadata``, so a resend after a crash can be recognised."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels.slack.blocks import Translate, messages
from bot.delivery import SendResult
from dialogs.content import Content
from dialogs.replies import Reply
from storage.models import Person

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

    def __init__(self, client: WebClient, content: Content) -> None:
        self.client = client
        self.content = content

    def can_reach(self, person: Person) -> bool:
        return bool(person.slack_user_id)

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
