"""The Slack channel: a Bolt app whose listeners only translate.

Inbound: a DM, a button, a modal, ``/regie`` or an App Home button becomes a ``Turn``;
outbound: the replies become Block Kit messages in the person's DM. Bolt acknowledges every
request before the listener runs (``process_before_response=False``), so Slack gets its answer
within 3 s and the dialog work happens after. Retried deliveries carry the same ``event_id``;
the runtime's inbound de-duplication makes them a no-op.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.slack.blocks import (
    Translate,
    decode_ref,
    escape,
    home_view,
    long_answer_modal,
    messages,
    settle,
)
from bot.channels.slack.client import web_client
from bot.channels.slack.people import NotEnrolled, SlackPeople
from bot.config import Settings
from bot.wiring import policy as nudge_policy
from dialogs.engine.replies import Reply
from dialogs.engine.runtime import Handled, Outcome, Runtime, UnknownPerson
from dialogs.engine.text import MAX_TEXT_CHARS, normalise_keyword
from dialogs.engine.turn import Action, Turn
from dialogs.flows.home import build_summary
from storage.models import Person

log = logging.getLogger(__name__)


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
        self.engine = engine
        self.settings = settings
        self.client = client or web_client(settings)
        self.people = SlackPeople(engine, self.client, settings)
        self.app = App(
            client=self.client,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            process_before_response=False,
            logger=logging.getLogger("regie.slack.bolt"),
        )
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._register()

    def connect_socket_mode(self, app_token: str) -> None:
        """Receive events over Socket Mode (no public URL needed) instead of HTTP."""
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        SocketModeHandler(self.app, app_token).connect()

    # -- listeners ----------------------------------------------------------------------

    def _register(self) -> None:
        app = self.app
        app.event("message")(self.on_message)
        app.event("app_home_opened")(self.on_home_opened)
        app.action(re.compile(r"^regie:answer:"))(self.on_answer)
        app.action("regie:modal")(self.on_open_modal)
        app.action(re.compile(r"^regie:start:"))(self.on_start)
        app.action(re.compile(r"^regie:link:"))(self.on_link)
        app.view("regie:long")(self.on_long_answer)
        app.command("/regie")(self.on_command)
        app.event(re.compile(".*"))(self.on_other_event)  # last: anything not handled above

    def on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            log.debug("ignored message event (subtype=%s)", event.get("subtype"))
            return
        text = html.unescape(event.get("text") or "")
        self._converse(
            event["user"],
            event["channel"],
            text=text,
            inbound_id=f"slack:{body.get('event_id') or event.get('ts')}",
        )

    def on_answer(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        ref = decode_ref(action.get("block_id", ""))
        if ref is None:
            log.info("answer without a prompt reference ignored")
            return
        value, label = _answer_of(action)
        channel = body["channel"]["id"]
        handled = self._converse(
            body["user"]["id"],
            channel,
            action=Action(value=value, session_id=ref[0], step=ref[1], seq=ref[2]),
            inbound_id=f"slack:act:{body['container'].get('message_ts')}:{action.get('action_ts')}",
        )
        if handled is not None:
            self._settle(body, action["block_id"], handled, label)

    def on_open_modal(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        metadata = json.dumps(
            {
                "b": action["block_id"],
                "c": body["channel"]["id"],
                "ts": body["container"].get("message_ts"),
            }
        )
        person_id = self._person(body["user"]["id"])
        if person_id is None:
            return
        view = long_answer_modal(
            self._translator(self._language(person_id)), metadata=metadata, max_chars=MAX_TEXT_CHARS
        )
        self._call(self.client.views_open, trigger_id=body["trigger_id"], view=view)

    def on_long_answer(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        ref = decode_ref(meta.get("b", ""))
        text = view["state"]["values"]["answer"]["text"].get("value") or ""
        if ref is None:
            return
        handled = self._converse(
            body["user"]["id"],
            meta["c"],
            action=Action(value=text, session_id=ref[0], step=ref[1], seq=ref[2]),
            inbound_id=f"slack:view:{view['id']}:{view.get('hash')}",
        )
        if handled is not None:
            message = {"channel": {"id": meta["c"]}, "container": {"message_ts": meta["ts"]}}
            self._settle(message, meta["b"], handled, text)

    def on_start(self, ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        """A button that starts a conversation: on App Home, or on a nudge in the DM."""
        ack()
        user = body["user"]["id"]
        handled = self._converse(
            user, user, intent=action["value"], inbound_id=f"slack:start:{action.get('action_ts')}"
        )
        if "message" in body and handled is not None:  # a nudge: show what was chosen
            label = action.get("text", {}).get("text", "")
            self._settle(body, action["block_id"], handled, label)
        else:
            self.publish_home(user)

    def on_link(self, ack: Ack) -> None:
        """A link button: Slack opens the URL; it only needs to hear the click arrived."""
        ack()

    def on_command(self, ack: Ack, command: dict[str, Any]) -> None:
        word = normalise_keyword(command.get("text") or "")
        intent = self.runtime.content.intents.get(word) if word else "menu"
        user = command["user_id"]
        if intent is None:
            person_id = self._person(user)
            t = self._translator(self._language(person_id))
            unknown = t("channel.unknown_command", command=(command.get("text") or "")[:50])
            ack(text=escape(unknown), response_type="ephemeral")
            return
        ack()
        self._converse(
            user, user, intent=intent, inbound_id=f"slack:cmd:{command.get('trigger_id')}"
        )

    def on_home_opened(self, event: dict[str, Any]) -> None:
        if event.get("tab") == "home":
            self.publish_home(event["user"])

    def on_other_event(self, event: dict[str, Any]) -> None:
        log.debug("ignored Slack event of type %s", event.get("type"))

    # -- doing the work -----------------------------------------------------------------

    def _converse(
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
                person_id = self._person(user)
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
                    t = self._translator(self._language(person_id))
                    self._call(
                        self.client.chat_postMessage, channel=channel, text=t("channel.error")
                    )
                    return None
                self._post(channel, handled.replies, self._translator(handled.language))
                return handled
        return None

    def _person(self, user: str) -> int | None:
        try:
            return self.people.person_id(user)
        except NotEnrolled:
            log.info("Slack user %s is not enrolled and open enrolment is off", user)
            return None

    def _post(self, channel: str, replies: list[Reply], t: Translate) -> None:
        for message in messages(replies, t):
            self._call(
                self.client.chat_postMessage,
                channel=channel,
                text=message.text,
                blocks=message.blocks,
            )

    def _settle(self, body: dict[str, Any], block_id: str, handled: Handled, label: str) -> None:
        """Show the answer in place of the buttons it was given with (or that it closed)."""
        if handled.outcome not in (Outcome.HANDLED, Outcome.STALE):
            return
        t = self._translator(handled.language)
        note = (
            t("channel.answered", answer=label[:200])
            if handled.outcome == Outcome.HANDLED
            else t("channel.closed")
        )
        blocks = body.get("message", {}).get("blocks")
        if not blocks:
            blocks = [{"type": "actions", "block_id": block_id}]
        self._call(
            self.client.chat_update,
            channel=body["channel"]["id"],
            ts=body["container"]["message_ts"],
            text=escape(note),
            blocks=settle(blocks, block_id, note),
        )

    def publish_home(self, user: str) -> None:
        person_id = self._person(user)
        if person_id is None:
            return
        with Session(self.engine) as db:
            person = db.get(Person, person_id)
            if person is None:
                self.people.forget(user)
                return
            today = self.runtime.clock().astimezone(ZoneInfo(person.timezone)).date()
            summary = build_summary(
                db, self.runtime.content, person, today=today, policy=nudge_policy(self.settings)
            )
        self._call(self.client.views_publish, user_id=user, view=home_view(summary))

    def _language(self, person_id: int | None) -> str:
        with Session(self.engine) as db:
            person = db.get(Person, person_id) if person_id is not None else None
            return person.language if person else self.settings.language

    def _translator(self, language: str) -> Translate:
        content = self.runtime.content
        return lambda key, **values: content.text(language, key, **values)

    def _lock_for(self, user: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(user, threading.Lock())

    @staticmethod
    def _call(method: Callable[..., Any], **kwargs: Any) -> None:
        try:
            method(**kwargs)
        except SlackApiError as error:
            log.warning(
                "Slack %s failed: %s",
                getattr(method, "__name__", "call"),
                error.response.get("error"),
            )


def _answer_of(action: dict[str, Any]) -> tuple[Any, str]:
    """The answer value and the label the person saw, for each kind of element."""
    if action.get("type") == "datepicker":
        return action.get("selected_date"), action.get("selected_date") or ""
    if "selected_option" in action:
        option = action["selected_option"] or {}
        return _json(option.get("value")), option.get("text", {}).get("text", "")
    return _json(action.get("value")), action.get("text", {}).get("text", "")


def _json(raw: str | None) -> Any:
    try:
        return json.loads(raw) if raw is not None else None
    except json.JSONDecodeError:
        return raw
