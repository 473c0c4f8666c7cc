"""A message in the personal chat becomes a turn: typed text, an ``Action.Submit`` whose data
holds the prompt reference (an answer), or a nudge's button (``regie_start``: an intent).

The card a question was asked on is settled however it was answered: after a tap, the tapped
card; after a typed answer, the last card that asked something (its buttons would otherwise
linger as if the question were still open)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.core import TurnContext

from bot.channels.teams.addresses import CHANNEL
from bot.channels.teams.sending import send, settle, settle_cards
from bot.channels.teams.sent import Asked
from bot.channels.teams.turns import TeamsTurns, inbound_id, off_loop
from bot.channels.typed import asks_again, typed_answer
from dialogs.engine.runtime import Handled, Outcome
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
    asked = turns.cards.asked(person_id) if action is None else []
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
        await settle(context, ref, handled, label, t, cards=turns.cards, person_id=person_id)
    elif asked:
        await _settle_typed(turns, context, person_id, asked, turn.text or "", handled)
    await send(context, handled.replies, t, cards=turns.cards, person_id=person_id)


async def _settle_typed(
    turns: TeamsTurns,
    context: TurnContext,
    person_id: int,
    asked: list[Asked],
    text: str,
    handled: Handled,
) -> None:
    """The last question was answered by typing (or left for something else): its cards show
    the answer (or that it closed), unless the replies ask it again."""
    prompt = asked[-1].prompt
    if handled.outcome != Outcome.HANDLED or asks_again(prompt, handled.replies):
        return
    zone = await off_loop(turns.timezone, person_id)
    today = turns.runtime.clock().astimezone(ZoneInfo(zone)).date()
    answer = typed_answer(prompt, text, turns.runtime.content, today=today)
    t = turns.translator(handled.language)
    note = t("channel.answered", answer=answer[:200]) if answer else t("channel.closed")
    await settle_cards(context, turns.cards.settled(person_id), note)


async def _on_start(
    turns: TeamsTurns, context: TurnContext, person_id: int, data: dict[str, Any]
) -> None:
    """A nudge's button: start what it offers, and show on the card what was chosen."""
    activity = context.activity
    asked = turns.cards.asked(person_id)
    turn = Turn(
        person_id=person_id,
        intent=data["regie_start"],
        inbound_id=inbound_id(activity),
        channel=CHANNEL,
    )
    handled = await turns.handle(turn)
    t = turns.translator(handled.language)
    if activity.reply_to_id and "p" in data:  # one offer: show what was chosen
        label = str(data.get("label", ""))
        await settle(context, data, handled, label, t, cards=turns.cards, person_id=person_id)
    if asked:  # the question left open is put aside for what the button starts
        await _settle_typed(turns, context, person_id, asked, "", handled)
    await send(context, handled.replies, t, cards=turns.cards, person_id=person_id)


def answer_of(data: dict[str, Any]) -> tuple[Any, str]:
    """A button sends ``value`` (and its label); an input card sends ``answer``."""
    if "value" in data:
        return data["value"], str(data.get("label") or data["value"])
    answer = data.get("answer")
    labels = data.get("labels") or {}
    return answer, str(labels.get(answer, answer) if answer is not None else "")
