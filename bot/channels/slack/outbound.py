"""Proactive Slack messages for the outbox: a DM to the person's Slack user (``chat.postMessage``
with a user id opens the app DM). Each message carries its idempotency key in Slack message
``metadata``, so a resend after a crash can be recognised.

After a crash, one ``conversations.history`` call per person (newest first, paged while keys
are missing) tells which of their interrupted messages arrived. Those look-ups, and the
``conversations.open`` that finds a DM's channel id, are Slack Tier 3 methods (about 50 calls a
minute each): each has its own budget, held off as long as a 429's ``Retry-After`` asks. A
look-up that fails, times out or is throttled answers "unknown", never "not sent"."""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.slack_response import SlackResponse
from sqlalchemy.engine import Engine

from bot.channels.registry import SLACK
from bot.channels.slack.blocks import POST_OPTIONS, Translate, messages
from bot.ratelimit import TIER_3_BURST, TIER_3_RATE, AdaptiveRate
from bot.senders import NOT_SENT, SENT, Lookup, SendResult
from dialogs.engine.content import Content
from dialogs.engine.replies import Reply
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
HISTORY_PAGE = 200
HISTORY_PAGES = 5
"""At most this many pages of a DM's history per look-up; a key not found by then is unknown."""
LOOKUP_WAIT = 10.0
"""Seconds a look-up may wait for its budget; longer (Slack asked us to hold off): unknown."""
LOOKUP_RETRY_AFTER = 30.0
"""How long to hold off look-ups after ``ratelimited`` without a ``Retry-After`` header."""
CLOCK_SKEW = 300.0
"""Seconds of history read before the earliest moment a message can have been sent."""


def tier_3() -> AdaptiveRate:
    """The budget of one Slack Tier 3 method."""
    return AdaptiveRate(TIER_3_RATE, burst=TIER_3_BURST)


class SlackSender:
    channel = "slack"

    def __init__(
        self,
        client: WebClient,
        content: Content,
        engine: Engine,
        *,
        rate: float = 10.0,
        lookups: AdaptiveRate | None = None,
        opens: AdaptiveRate | None = None,
    ) -> None:
        self.client = client
        self.content = content
        self.engine = engine
        self.limiter = AdaptiveRate(rate, per_conversation=1.0)
        self.lookups = lookups or tier_3()
        """The budget of ``conversations.history`` (the worker sizes its claims by it)."""
        self.opens = opens or tier_3()
        """The budget of ``conversations.open``."""
        self._reader = _without_rate_limit_retries(client)
        self._dms: dict[int, str] = {}

    def can_reach(self, person: Person) -> bool:
        return SLACK.can_reach(person)  # the registry's one answer

    async def already_sent(
        self, person: Person, keys: Sequence[str], *, since: datetime
    ) -> dict[str, Lookup]:
        """Look for the keys in the metadata of the DM's messages since ``since`` (less some
        clock skew): one ``conversations.history`` call for all of them, more pages only while
        some are missing and Slack has more."""
        loop = asyncio.get_running_loop()
        wanted, found = set(keys), set[str]()
        # Slack's clock, not ours (run-due may run at a simulated instant)
        oldest = f"{min(since.timestamp(), time.time()) - CLOCK_SKEW:.6f}"
        try:
            channel = await loop.run_in_executor(None, self._stored_dm, person)
            if channel is None:
                if not await self.opens.acquire(within=LOOKUP_WAIT):
                    return _all(keys, self._held("conversations.open", self.opens))
                channel = await loop.run_in_executor(None, self._open_dm, person)
            cursor = ""
            for _ in range(HISTORY_PAGES):
                if not await self.lookups.acquire(within=LOOKUP_WAIT):
                    return _all(keys, self._held("conversations.history", self.lookups))
                history = await loop.run_in_executor(
                    None,
                    partial(
                        self._reader.conversations_history,
                        channel=channel,
                        oldest=oldest,
                        limit=HISTORY_PAGE,
                        include_all_metadata=True,
                        cursor=cursor or None,
                    ),
                )
                self.lookups.recovered()
                found |= wanted & set(_keys_in(history))
                cursor = str((history.get("response_metadata") or {}).get("next_cursor") or "")
                if found == wanted or not history.get("has_more") or not cursor:
                    return {key: SENT if key in found else NOT_SENT for key in keys}
        except SlackApiError as error:
            return _all(keys, self._failed(error))
        except OSError as error:  # timeouts, refused connections
            log.warning("could not read DM history to reconcile: %s", type(error).__name__)
            return _all(keys, Lookup.unknown(type(error).__name__))
        unseen = Lookup.unknown(f"not in the last {HISTORY_PAGES * HISTORY_PAGE} messages")
        return {key: SENT if key in found else unseen for key in keys}

    def _held(self, method: str, budget: AdaptiveRate) -> Lookup:
        return Lookup.unknown(f"{method} budget spent", retry_after=budget.held_for())

    def _failed(self, error: SlackApiError) -> Lookup:
        code = str(error.response.get("error") or error.response.status_code)
        method = _method_of(error.response)
        budget = self.opens if method == "conversations.open" else self.lookups
        if error.response.status_code == 429 or code == "ratelimited":
            retry_after = _retry_after(error.response) or LOOKUP_RETRY_AFTER
            budget.hold(retry_after)
            budget.slow_down()
            log.info("%s rate limited: look-ups held for %.0f s", method, retry_after)
            return Lookup.unknown(f"{method}: rate limited", retry_after=retry_after)
        log.warning("could not read DM history to reconcile: %s (%s)", code, method)
        return Lookup.unknown(f"{method}: {code}")

    def _stored_dm(self, person: Person) -> str | None:
        """The person's DM channel id if known (remembered here, or stored as their address)."""
        assert person.id is not None
        if person.id not in self._dms:
            with session_scope(self.engine) as db:
                stored = address_of(db, person.id, "slack")
            if stored and stored.get("dm"):
                self._dms[person.id] = str(stored["dm"])
        return self._dms.get(person.id)

    def _open_dm(self, person: Person) -> str:
        """``conversations.open`` once per person, then stored."""
        assert person.id is not None
        opened = self._reader.conversations_open(users=str(person.slack_user_id))
        channel = str(opened["channel"]["id"])
        with session_scope(self.engine) as db:
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
                # a 429 comes back to the outbox (which slows its budget, shared with other
                # replicas, and tries the row again later), not slept on in a worker thread
                self._reader.chat_postMessage(
                    channel=str(person.slack_user_id),
                    text=message.text,
                    blocks=message.blocks,
                    metadata=metadata,
                    unfurl_links=POST_OPTIONS["unfurl_links"],
                    unfurl_media=POST_OPTIONS["unfurl_media"],
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


def _without_rate_limit_retries(client: WebClient) -> WebClient:
    """The client for look-ups and outbox sends: a 429 comes back to the sender (which holds or
    slows its budget: a look-up answers "unknown", a send is tried again later) instead of
    sleeping in a worker thread and trying again outside the budget."""
    reader = copy.copy(client)
    reader.retry_handlers = [
        handler
        for handler in client.retry_handlers
        if not isinstance(handler, RateLimitErrorRetryHandler)
    ]
    return reader


def _keys_in(history: SlackResponse) -> list[str]:
    keys = []
    for message in history.get("messages") or []:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if payload.get("key"):
            keys.append(str(payload["key"]))
    return keys


def _all(keys: Sequence[str], lookup: Lookup) -> dict[str, Lookup]:
    return dict.fromkeys(keys, lookup)


def _method_of(response: SlackResponse) -> str:
    return str(response.api_url).rstrip("/").rsplit("/", 1)[-1]


def _retry_after(response: SlackResponse) -> float | None:
    for name, value in (response.headers or {}).items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value if isinstance(value, str) else value[0]))
            except (TypeError, ValueError, IndexError):
                return None
    return None
