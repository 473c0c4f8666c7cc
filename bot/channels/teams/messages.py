"""A message in the personal chat becomes a turn: typed text, an ``Action.Submit`` whose data
holds the prompt reference (an answer), or a nudge's button (``regie_start``: an intent)."""

from __future__ import annotations

from typing import Any

from botbuilder.core import TurnContext

from bot.channels.teams.addresses import CHANNEL
from bot.channels.teams.sending import send, settle
from bot.channels.teams.turns import TeamsTurns, inbound_id
from dialogs.engine.turn import Action, Turn


async def on_message(turns: TeamsTurns, context: TurnContext, person_id: int) -> None:
    activity = context.activity
    data = activity.value if isinstance(activity.value, dict) else None
    if data and isinstance(data.get("regie_start"), str):
        await _on_start(turns, context, person_id, data)
        return
    ref = data.get("regie") if data else None
    action = None
    label = ""
    if isinstance(ref, dict):
        value, label = answer_of(data or {})
        action = Action(value=value, session_id=ref.get("s"), step=ref.get("t"), seq=ref.get("q"))
    turn = Turn(
        person_id=person_id,
        text=None if action else (activity.text or ""),
        action=action,
        inbound_id=inbound_id(activity),
        channel=CHANNEL,
    )
    handled = await turns.handle(turn)
    t = turns.translator(handled.language)
    if isinstance(ref, dict) and activity.reply_to_id:
        await settle(context, ref, handled, label, t)
    await send(context, handled.replies, t)


async def _on_start(
    turns: TeamsTurns, context: TurnContext, person_id: int, data: dict[str, Any]
) -> None:
    """A nudge's button: start what it offers, and show on the card what was chosen."""
    activity = context.activity
    turn = Turn(
        person_id=person_id,
        intent=data["regie_start"],
        inbound_id=inbound_id(activity),
        channel=CHANNEL,
    )
    handled = await turns.handle(turn)
    t = turns.translator(handled.language)
    if activity.reply_to_id and "p" in data:  # one offer: show what was chosen
        await settle(context, data, handled, str(data.get("label", "")), t)
    await send(context, handled.replies, t)


def answer_of(data: dict[str, Any]) -> tuple[Any, str]:
    """A button sends ``value`` (and its label); an input card sends ``answer``."""
    if "value" in data:
        return data["value"], str(data.get("label") or data["value"])
    answer = data.get("answer")
    labels = data.get("labels") or {}
    return answer, str(labels.get(answer, answer) if answer is not None else "")
