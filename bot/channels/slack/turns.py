"""What every Slack listener shares: who a Slack user is, running their turns one at a time and
in order, posting the replies (no link previews), and settling the message a question was
asked on, whether it was answered by a click or by typing (the last question asked is
remembered per user, in memory: after a restart a typed answer leaves the old buttons be, and a
click on them is answered as usual).

Not a Bolt middleware: Bolt runs middleware on the request's thread before it acknowledges, so
a per-user lock there would hold up Slack's 3-second answer. The listeners, which run after the
acknowledgement, call :meth:`SlackTurns.converse` instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.links import with_urls
from bot.channels.slack.blocks import (
    POST_OPTIONS,
    Translate,
    encode_ref,
    escape,
    messages,
    settle,
)
from bot.channels.slack.people import NotEnrolled, SlackPeople
from bot.channels.typed import asks_again, typed_answer
from bot.config import Settings
from dialogs.engine.replies import Prompt, Reply
from dialogs.engine.runtime import Handled, Outcome, Runtime, UnknownPerson
from dialogs.engine.turn import Action, Turn
from storage.people import preferred_language

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Asked:
    """A message with an open question's buttons, as posted."""

    channel: str
    ts: str
    blocks: list[dict[str, Any]]
    prompt: Prompt


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
        self._asked: dict[str, list[Asked]] = {}
        """Per Slack user, the messages that ask their last question (more than one when it was
        asked again), settled together when it is answered."""
        self.dms: dict[str, str] = {}
        """Slack user -> their DM with the bot (learnt from what was posted or received)."""

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
                asked = self._asked.get(user, []) if action is None else []
                try:
                    handled = with_urls(self.runtime.handle_turn(turn), self.settings.base_url)
                except UnknownPerson:  # deleted since we cached the id: enrol afresh
                    self.people.forget(user)
                    continue
                except Exception:
                    log.exception("turn failed for Slack user %s", user)
                    t = self.translator(self.language(person_id))
                    self.call(
                        self.client.chat_postMessage,
                        channel=channel,
                        text=t("channel.error"),
                        **POST_OPTIONS,
                    )
                    return None
                if asked:
                    self._settle_typed(user, person_id, asked, text or "", handled)
                self._post(user, channel, handled.replies, self.translator(handled.language))
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
        ts = body["container"]["message_ts"]
        self._update(body["channel"]["id"], ts, blocks, block_id, note)
        user = (body.get("user") or {}).get("id")
        if not user or handled.outcome != Outcome.HANDLED:
            return
        with self._locks_guard:
            asking = self._asked.get(user, [])
            if not any(a.ts == ts for a in asking):
                return
            self._asked.pop(user, None)
        for other in asking:  # the same question asked again, in other messages
            if other.ts != ts:
                self._update(other.channel, other.ts, other.blocks, block_id, note)

    def _settle_typed(
        self, user: str, person_id: int, asked: list[Asked], text: str, handled: Handled
    ) -> None:
        """The last question was answered by typing (or left for something else): its messages
        show the answer (or that it closed) in place of its buttons, unless it is asked
        again."""
        prompt = asked[-1].prompt
        if handled.outcome != Outcome.HANDLED or asks_again(prompt, handled.replies):
            return
        with self._locks_guard:
            self._asked.pop(user, None)
        zone = handled.timezone or self.settings.timezone
        today = self.runtime.clock().astimezone(ZoneInfo(zone)).date()
        answer = typed_answer(prompt, text, self.runtime.content, today=today)
        t = self.translator(handled.language)
        note = t("channel.answered", answer=answer[:200]) if answer else t("channel.closed")
        for message in asked:
            self._update(message.channel, message.ts, message.blocks, encode_ref(prompt), note)

    def _update(
        self, channel: str, ts: str, blocks: list[dict[str, Any]], block_id: str, note: str
    ) -> None:
        self.call(
            self.client.chat_update,
            channel=channel,
            ts=ts,
            text=escape(note),
            blocks=settle(blocks, block_id, note),
        )

    def language(self, person_id: int | None) -> str:
        with Session(self.engine) as db:
            return preferred_language(db, person_id, self.settings.language)

    def dm_of(self, user: str) -> str | None:
        """The user's DM with the bot: known from a message, else asked once (``im:write``)."""
        if user not in self.dms:
            opened = self.call(self.client.conversations_open, users=user)
            if opened is not None:
                self.dms[user] = str(opened["channel"]["id"])
        return self.dms.get(user)

    def forget_everyone(self) -> None:
        """The app was uninstalled: nothing of anyone is kept in memory."""
        with self._locks_guard:
            self._asked.clear()
            self.dms.clear()

    def translator(self, language: str) -> Translate:
        content = self.runtime.content
        return lambda key, **values: content.text(language, key, **values)

    @staticmethod
    def call(method: Callable[..., Any], **kwargs: Any) -> Any:
        """A Web API call whose failure is logged, never raised into the listener (then
        None)."""
        try:
            return method(**kwargs)
        except SlackApiError as error:
            log.warning(
                "Slack %s failed: %s",
                getattr(method, "__name__", "call"),
                error.response.get("error"),
            )
            return None

    def _post(self, user: str, channel: str, replies: list[Reply], t: Translate) -> None:
        """Post the replies; the message with the open question's buttons is remembered."""
        prompt = next((r for r in reversed(replies) if isinstance(r, Prompt)), None)
        ref = encode_ref(prompt) if prompt is not None else None
        for message in messages(replies, t):
            posted = self.call(
                self.client.chat_postMessage,
                channel=channel,
                text=message.text,
                blocks=message.blocks,
                **POST_OPTIONS,
            )
            if posted is None:
                continue
            dm = str(posted.get("channel") or "")
            if dm.startswith("D"):
                self.dms[user] = dm
            if prompt is not None and any(b.get("block_id") == ref for b in message.blocks):
                asked = Asked(dm or channel, str(posted["ts"]), message.blocks, prompt)
                with self._locks_guard:
                    same = [a for a in self._asked.get(user, []) if encode_ref(a.prompt) == ref]
                    self._asked[user] = [*same, asked]

    def _lock_for(self, user: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(user, threading.Lock())
