"""Buttons, menus and date pickers: an answer to a question (``regie:answer:*``), a button
that starts a conversation (``regie:start:*``, on App Home or on a nudge) and link buttons."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from slack_bolt import Ack, App

from bot.channels.slack.blocks import decode_ref
from bot.channels.slack.listeners.home import publish_home
from bot.channels.slack.turns import SlackTurns
from dialogs.engine.turn import Action

log = logging.getLogger(__name__)
ANSWER = re.compile(r"^regie:answer:")
START = re.compile(r"^regie:start:")
LINK = re.compile(r"^regie:link:")


def register(app: App, turns: SlackTurns) -> None:
    @app.action(ANSWER)
    def on_answer(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        ref = decode_ref(action.get("block_id", ""))
        if ref is None:
            log.info("answer without a prompt reference ignored")
            return
        value, label = answer_of(action)
        message_ts = body["container"].get("message_ts")
        handled = turns.converse(
            body["user"]["id"],
            body["channel"]["id"],
            action=Action(value=value, session_id=ref[0], step=ref[1], seq=ref[2]),
            inbound_id=f"slack:act:{message_ts}:{action.get('action_ts')}",
        )
        if handled is not None:
            turns.settle(body, action["block_id"], handled, label)

    @app.action(START)
    def on_start(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user = body["user"]["id"]
        handled = turns.converse(
            user, user, intent=action["value"], inbound_id=f"slack:start:{action.get('action_ts')}"
        )
        if "message" in body and handled is not None:  # a nudge: show what was chosen
            label = action.get("text", {}).get("text", "")
            turns.settle(body, action["block_id"], handled, label)
        else:
            publish_home(turns, user)

    @app.action(LINK)
    def on_link(ack: Ack) -> None:
        """Slack opens the URL; it only needs to hear the click arrived."""
        ack()


def answer_of(action: dict[str, Any]) -> tuple[Any, str]:
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
