"""A long answer: the button opens a modal (``regie:modal`` -> ``views.open``); its submission
(``regie:long``) is the answer to the question the button belonged to.

The modal takes exactly what the question takes (the button's value carries its limits), and
an answer the question would refuse is refused in the modal itself (``response_action:
errors``), so the text stays there to be fixed instead of being lost when the modal closes."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from bot.channels.slack.blocks import decode_ref, long_answer_modal, modal_limits
from bot.channels.slack.turns import SlackTurns
from dialogs.engine.content import Content
from dialogs.engine.text import MAX_TEXT_CHARS, clean, normalise_keyword
from dialogs.engine.turn import Action


def register(app: App, turns: SlackTurns) -> None:
    @app.action("regie:modal")
    def on_open_modal(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        most, skippable = modal_limits(action.get("value"))
        most = min(most, MAX_TEXT_CHARS)
        where = {
            "b": action["block_id"],
            "c": body["channel"]["id"],
            "ts": body["container"].get("message_ts"),
            "m": most,
            "s": skippable,
        }
        person_id = turns.person(body["user"]["id"])
        if person_id is None:
            return
        t = turns.translator(turns.language(person_id))
        view = long_answer_modal(t, metadata=json.dumps(where), max_chars=most)
        turns.call(turns.client.views_open, trigger_id=body["trigger_id"], view=view)

    @app.view("regie:long")
    def on_long_answer(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view.get("private_metadata") or "{}")
        ref = decode_ref(meta.get("b", ""))
        text = view["state"]["values"]["answer"]["text"].get("value") or ""
        user = body["user"]["id"]
        language = turns.language(turns.person(user))
        most, skippable = int(meta.get("m") or 1000), bool(meta.get("s"))
        problem = refusal(text, turns.runtime.content, language, most=most, skippable=skippable)
        if problem is not None:
            ack(response_action="errors", errors={"answer": problem})
            return
        ack()
        if ref is None:
            return
        handled = turns.converse(
            user,
            meta["c"],
            action=Action(value=text, session_id=ref[0], step=ref[1], seq=ref[2]),
            inbound_id=f"slack:view:{view['id']}:{view.get('hash')}",
        )
        if handled is not None:
            message = {
                "channel": {"id": meta["c"]},
                "container": {"message_ts": meta["ts"]},
                "user": {"id": user},
            }
            turns.settle(message, meta["b"], handled, text)


def refusal(
    text: str, content: Content, language: str, *, most: int, skippable: bool
) -> str | None:
    """Why the question would refuse this answer (as ``TextPrompt`` does), or None."""
    answer = clean(text)
    if not answer:
        return content.text(language, "channel.modal_empty")
    if len(text) > most:
        limit, length = content.number(language, most), content.number(language, len(text))
        return content.text(language, "channel.modal_too_long", limit=limit, length=length)
    if not skippable and normalise_keyword(answer) in content.words.get("skip", frozenset()):
        return content.text(language, "channel.modal_required")
    return None
