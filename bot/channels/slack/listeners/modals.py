"""A long answer: the button opens a modal (``regie:modal`` -> ``views.open``); its submission
(``regie:long``) is the answer to the question the button belonged to."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from bot.channels.slack.blocks import decode_ref, long_answer_modal
from bot.channels.slack.turns import SlackTurns
from dialogs.engine.text import MAX_TEXT_CHARS
from dialogs.engine.turn import Action


def register(app: App, turns: SlackTurns) -> None:
    @app.action("regie:modal")
    def on_open_modal(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        where = {
            "b": action["block_id"],
            "c": body["channel"]["id"],
            "ts": body["container"].get("message_ts"),
        }
        person_id = turns.person(body["user"]["id"])
        if person_id is None:
            return
        t = turns.translator(turns.language(person_id))
        view = long_answer_modal(t, metadata=json.dumps(where), max_chars=MAX_TEXT_CHARS)
        turns.call(turns.client.views_open, trigger_id=body["trigger_id"], view=view)

    @app.view("regie:long")
    def on_long_answer(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        meta = json.loads(view.get("private_metadata") or "{}")
        ref = decode_ref(meta.get("b", ""))
        text = view["state"]["values"]["answer"]["text"].get("value") or ""
        if ref is None:
            return
        handled = turns.converse(
            body["user"]["id"],
            meta["c"],
            action=Action(value=text, session_id=ref[0], step=ref[1], seq=ref[2]),
            inbound_id=f"slack:view:{view['id']}:{view.get('hash')}",
        )
        if handled is not None:
            message = {"channel": {"id": meta["c"]}, "container": {"message_ts": meta["ts"]}}
            turns.settle(message, meta["b"], handled, text)
