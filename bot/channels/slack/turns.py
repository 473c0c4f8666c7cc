"""What every Slack listener shares: who a Slack user is, running their turns one at a time and
in order, and posting the replies.

Not a Bolt middleware: Bolt runs middleware on the request's thread before it acknowledges, so
a per-user lock there would hold up Slack's 3-second answer. The listeners, which run after the
acknowledgement, call :meth:`SlackTurns.converse` instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.slack.blocks import Translate, escape, messages, settle
from bot.channels.slack.people import NotEnrolled, SlackPeople
from bot.config import Settings
from dialogs.engine.replies import Reply
from dialogs.engine.runtime import Handled, Outcome, Runtime, UnknownPerson
from dialogs.engine.turn import Action, Turn
from storage.people import preferred_language

log = logging.getLogger(__name__)


class SlackTurns:
    def __init__(
        self,
        runtime: Runtime,
        engine: Engine,
        settings: Settings,
        client: WebClient,
        people: SlackPeople,
    ) -> None:
        self.runtime = runtime
        self.engine = engine
        self.settings = settings
        self.client = client
        self.people = people
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()

    def converse(
        self,
        user: str,
        channel: str,
        *,
        text: str | None = None,
        action: Action | None = None,
        intent: str | None = None,
        inbound_id: str,
    ) -> Handled | None:
        """Run one turn for a Slack user (one at a time per user, so quick messages keep their
        order) and post the replies to ``channel``."""
        with self._lock_for(user):
            for _attempt in range(2):
                person_id = self.person(user)
                if person_id is None:
                    return None
                turn = Turn(
                    person_id=person_id,
                    text=text,
                    action=action,
                    intent=intent,
                    inbound_id=inbound_id,
                    channel="slack",
                )
                try:
                    handled = self.runtime.handle_turn(turn)
                except UnknownPerson:  # deleted since we cached the id: enrol afresh
                    self.people.forget(user)
                    continue
                except Exception:
                    log.exception("turn failed for Slack user %s", user)
                    t = self.translator(self.language(person_id))
                    self.call(
                        self.client.chat_postMessage, channel=channel, text=t("channel.error")
                    )
                    return None
                self._post(channel, handled.replies, self.translator(handled.language))
                return handled
        return None

    def person(self, user: str) -> int | None:
        try:
            return self.people.person_id(user)
        except NotEnrolled:
            log.info("Slack user %s is not enrolled and open enrolment is off", user)
            return None

    def settle(self, body: dict[str, Any], block_id: str, handled: Handled, label: str) -> None:
        """Show the answer in place of the buttons it was given with (or that it closed)."""
        if handled.outcome not in (Outcome.HANDLED, Outcome.STALE):
            return
        t = self.translator(handled.language)
        note = (
            t("channel.answered", answer=label[:200])
            if handled.outcome == Outcome.HANDLED
            else t("channel.closed")
        )
        blocks = body.get("message", {}).get("blocks")
        if not blocks:
            blocks = [{"type": "actions", "block_id": block_id}]
        self.call(
            self.client.chat_update,
            channel=body["channel"]["id"],
            ts=body["container"]["message_ts"],
            text=escape(note),
            blocks=settle(blocks, block_id, note),
        )

    def language(self, person_id: int | None) -> str:
        with Session(self.engine) as db:
            return preferred_language(db, person_id, self.settings.language)

    def translator(self, language: str) -> Translate:
        content = self.runtime.content
        return lambda key, **values: content.text(language, key, **values)

    @staticmethod
    def call(method: Callable[..., Any], **kwargs: Any) -> None:
        """A Web API call whose failure is logged, never raised into the listener."""
        try:
            method(**kwargs)
        except SlackApiError as error:
            log.warning(
                "Slack %s failed: %s",
                getattr(method, "__name__", "call"),
                error.response.get("error"),
            )

    def _post(self, channel: str, replies: list[Reply], t: Translate) -> None:
        for message in messages(replies, t):
            self.call(
                self.client.chat_postMessage,
                channel=channel,
                text=message.text,
                blocks=message.blocks,
            )

    def _lock_for(self, user: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(user, threading.Lock())
