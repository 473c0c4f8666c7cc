"""The organisation's stories channel on Slack: a success story posted (``chat.postMessage``
into the channel set in ``REGIE_STORIES_SLACK_CHANNEL``) and, once withdrawn, deleted again
(``chat.delete``, the bot's own message). Both need only ``chat:write``, for a channel the app
was invited to; a channel it is not in answers ``not_in_channel``, which an administrator can
fix, so it is tried again later like any transient error.

Texts go through the same Block Kit rendering as every reply (escaped, ``verbatim``: a story
can never become a mention or a link). The message carries the story's number in its metadata.
"""

from __future__ import annotations

from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.channels.slack.blocks import POST_OPTIONS, messages
from bot.senders import SendResult
from dialogs.engine.replies import Say

CHANNEL = "slack"

REFUSED_FOR_GOOD = {
    "channel_not_found",
    "is_archived",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "account_inactive",
    "restricted_action",
    "msg_too_long",
    "invalid_blocks",
    "no_text",
}
"""A post refused like this will not go through by trying again."""
ALREADY_GONE = {"message_not_found", "channel_not_found", "is_archived"}
"""A deletion answered like this has nothing left to delete (the message or its channel is
gone): the story counts as deleted."""
NOT_DELETABLE = {"cant_delete_message", "compliance_exports_prevent_deletion"}
"""Slack keeps the message (e.g. a workspace's retention rules)."""


class SlackStories:
    """Posts to, and deletes from, one Slack channel."""

    platform = CHANNEL

    def __init__(self, client: WebClient, channel: str) -> None:
        self.client = client
        self.channel = channel

    def post(self, text: str, *, story_id: int) -> tuple[SendResult, dict[str, Any] | None]:
        """The story in the channel: the outcome, and what deleting it needs (channel, ts)."""
        message = messages([Say(text)], _no_buttons)[0]  # a story is well under one message
        try:
            answer = self.client.chat_postMessage(
                channel=self.channel,
                text=message.text,
                blocks=message.blocks,
                metadata={"event_type": "regie_story", "event_payload": {"story": story_id}},
                unfurl_links=POST_OPTIONS["unfurl_links"],
                unfurl_media=POST_OPTIONS["unfurl_media"],
            )
        except SlackApiError as error:
            return _failed(error, permanent=REFUSED_FOR_GOOD), None
        except OSError as error:  # timeouts, refused connections
            return SendResult(False, error=type(error).__name__), None
        return SendResult(True), {"channel": str(answer["channel"]), "ts": str(answer["ts"])}

    def delete(self, ref: dict[str, Any]) -> SendResult:
        """The posted message deleted; ``permanent``: Slack keeps it (``error`` says why)."""
        try:
            self.client.chat_delete(channel=str(ref["channel"]), ts=str(ref["ts"]))
        except SlackApiError as error:
            code = _code(error)
            if code in ALREADY_GONE:
                return SendResult(True)
            return _failed(error, permanent=NOT_DELETABLE)
        except OSError as error:
            return SendResult(False, error=type(error).__name__)
        return SendResult(True)


def _no_buttons(key: str, **values: Any) -> str:
    """A story has no buttons, so nothing of the bot's own to translate."""
    return key


def _code(error: SlackApiError) -> str:
    return str(error.response.get("error") or error.response.status_code)


def _failed(error: SlackApiError, *, permanent: set[str]) -> SendResult:
    code = _code(error)
    if error.response.status_code == 429 or code == "ratelimited":
        retry = error.response.headers.get("Retry-After", "1")
        return SendResult(False, error="rate limited", retry_after=float(retry))
    return SendResult(False, permanent=code in permanent, error=code)
