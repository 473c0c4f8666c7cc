"""A message in the personal chat becomes a turn: typed text, or a press on a card — an
``Action.Submit`` (older clients) whose data holds the prompt reference (an answer) or a nudge's
``regie_start`` (an intent). A press by ``Action.Execute`` arrives as an invoke (``actions.py``)
with the same data and runs the same :func:`on_press`.

The card a question was asked on is settled however it was answered: after a press, the pressed
card; after a typed answer, the last card that asked something (its buttons would otherwise
linger as if the question were still open). A press on a card already settled (pressed twice,
or the press delivered again) runs nothing: the card is shown settled again.

A typed answer is one transaction, before the reply: the turn and the cards it settles. A press
is two: its claim on the card (committed first, so that a second press on any replica sees it),
then the turn with the card settled. The cards sent are stored after they went out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from botbuilder.core import TurnContext
from sqlmodel import Session

from bot.channels.teams.addresses import CHANNEL
from bot.channels.teams.cards import settled
from bot.channels.teams.sending import (
    Settled,
    Shown,
    conversation_of,
    send,
    settle_asked,
    settle_press,
    show,
    update,
)
from bot.channels.teams.sent import PRESS_LEASE
from bot.channels.teams.turns import TeamsTurns, inbound_id
from bot.channels.typed import asks_again, typed_answer
from dialogs.engine.replies import prompt_from_dict
from dialogs.engine.runtime import Handled, Outcome
from dialogs.engine.turn import Action, Turn
from storage import teams_cards
from storage.models import TeamsCard


async def on_message(turns: TeamsTurns, context: TurnContext, person_id: int) -> None:
    activity = context.activity
    data = activity.value if isinstance(activity.value, dict) else None
    if data is not None and pressed(data):
        await on_press(turns, context, person_id, data, in_place=False)
        return
    turn = Turn(
        person_id=person_id,
        text=activity.text or "",
        inbound_id=inbound_id(activity),
        channel=CHANNEL,
    )
    typed = partial(_settle_typed, turns, conversation_of(context), person_id, turn.text or "")
    handled, shown = await turns.handle_and(turn, typed)
    await show(context, shown)
    t = turns.translator(handled.language)
    await send(context, handled.replies, t, cards=turns.cards, person_id=person_id)


def pressed(data: dict[str, Any]) -> bool:
    """Whether a card action's data is one of Regie's buttons (an answer or a start)."""
    return isinstance(data.get("regie"), dict) or isinstance(data.get("regie_start"), str)


async def on_press(
    turns: TeamsTurns,
    context: TurnContext,
    person_id: int,
    data: dict[str, Any],
    *,
    in_place: bool,
) -> dict[str, Any] | None:
    """A button (or a form's Send) on the card ``replyToId`` names, however it arrived: the turn
    runs and its replies are sent. Returns the pressed card as it is to show now (settled), or
    None when it stays as it is (the question is still open, or the card had several parts).
    ``in_place``: the caller answers with that card (an invoke); else it is updated in the chat
    before the replies go out.

    Only the first press on a card runs its turn, on whichever replica it arrives: any other
    (pressed twice, delivered again) is answered with the card as the first press settled it."""
    activity = context.activity
    pressed_on = activity.reply_to_id

    async def settled_now(card: dict[str, Any] | None) -> dict[str, Any] | None:
        if card is not None and pressed_on and not in_place:
            await update(context, pressed_on, card)
        return card

    starts = isinstance(data.get("regie_start"), str)
    label = str(data.get("label", "")) if starts else answer_of(data)[1]
    if not starts or "p" in data:  # a press that settles the card
        done = await _press(turns, context, person_id, label)
    else:  # one of several offers on a card: it stays, unless settled some other way
        found = await turns.cards.find(conversation_of(context), pressed_on)
        done = found.now if found is not None and found.settled else None
    if done is not None:  # answered already: nothing runs again
        return await settled_now(done)
    if starts:
        return await _on_start(turns, context, person_id, data, settled_now)
    ref = data["regie"]
    value, label = answer_of(data)
    action = Action(value=value, session_id=ref.get("s"), step=ref.get("t"), seq=ref.get("q"))
    turn = Turn(
        person_id=person_id, action=action, inbound_id=inbound_id(activity), channel=CHANNEL
    )
    settle = partial(
        settle_press,
        conversation=conversation_of(context),
        activity_id=pressed_on,
        ref=ref,
        label=label,
        person_id=person_id,
        translator=turns.translator,
    )
    handled, after = await turns.handle_and(turn, settle)
    await show(context, after.others)
    await settled_now(after.card)
    t = turns.translator(handled.language)
    await send(context, handled.replies, t, cards=turns.cards, person_id=person_id)
    return after.card


async def _press(
    turns: TeamsTurns, context: TurnContext, person_id: int, label: str
) -> dict[str, Any] | None:
    """Claim the pressed card for this press, in a transaction of its own (committed before
    the turn runs, so that a second press anywhere sees it): None when this press is to run
    its turn (it is the first, or the card is not known), else the card as the press that
    came first settled it (meanwhile showing ``label`` as the answer)."""
    conversation, pressed_on = conversation_of(context), context.activity.reply_to_id
    if not pressed_on:
        return None

    def claim(db: Session) -> dict[str, Any] | None:
        found = teams_cards.find(db, conversation, pressed_on)
        if found is None:
            return None  # no longer known (retention): the runtime finds a second press stale
        now = turns.cards.clock()
        if not found.settled:
            t = turns.translator(turns.language_in(db, person_id))
            answered = settled(found.card, t("channel.answered", answer=label[:200]))
            if _pressed(db, conversation, pressed_on, answered, now):
                return None
            found = teams_cards.find(db, conversation, pressed_on)
        elif _pressed(db, conversation, pressed_on, shown_now(found), now):
            return None  # the press that settled it died before its turn ended
        return shown_now(found) if found is not None and found.settled else None

    return await turns.stored(claim)


def _pressed(
    db: Session, conversation: str, activity_id: str, shown: dict[str, Any], now: datetime
) -> bool:
    return teams_cards.press(db, conversation, activity_id, shown, now=now, lease=PRESS_LEASE)


def shown_now(row: TeamsCard) -> dict[str, Any]:
    """The card as it shows now: as settled, or as sent."""
    return row.shown if row.settled and row.shown is not None else row.card


def _settle_typed(
    turns: TeamsTurns,
    conversation: str,
    person_id: int,
    text: str,
    db: Session,
    handled: Handled,
) -> tuple[Shown, ...]:
    """In the turn's transaction: the last question was answered by typing (or left for
    something else): its cards show the answer (or that it closed), unless the replies ask it
    again. The cards to update in the chat."""
    prompts = [row.prompt for row in teams_cards.asking(db, person_id) if row.prompt is not None]
    if not prompts or handled.outcome != Outcome.HANDLED:
        return ()
    prompt = prompt_from_dict(prompts[-1])
    if asks_again(prompt, handled.replies):
        return ()
    today = turns.runtime.clock().astimezone(ZoneInfo(handled.timezone)).date()
    answer = typed_answer(prompt, text, turns.runtime.content, today=today)
    t = turns.translator(handled.language)
    note = t("channel.answered", answer=answer[:200]) if answer else t("channel.closed")
    return settle_asked(db, conversation, person_id, note)


async def _on_start(
    turns: TeamsTurns,
    context: TurnContext,
    person_id: int,
    data: dict[str, Any],
    settled_now: Callable[[dict[str, Any] | None], Awaitable[dict[str, Any] | None]],
) -> dict[str, Any] | None:
    """A nudge's button: start what it offers, and show on the card what was chosen."""
    activity = context.activity
    turn = Turn(
        person_id=person_id,
        intent=data["regie_start"],
        inbound_id=inbound_id(activity),
        channel=CHANNEL,
    )
    conversation = conversation_of(context)

    def settle(db: Session, handled: Handled) -> tuple[Settled, tuple[Shown, ...]]:
        done = Settled()
        if "p" in data:  # one offer: show what was chosen
            done = settle_press(
                db,
                handled,
                conversation=conversation,
                activity_id=activity.reply_to_id,
                ref=data,
                label=str(data.get("label", "")),
                person_id=person_id,
                translator=turns.translator,
            )
        # the question left open is put aside for what the button starts
        return done, _settle_typed(turns, conversation, person_id, "", db, handled)

    handled, (done, put_aside) = await turns.handle_and(turn, settle)
    if "p" in data:
        await show(context, done.others)
        await settled_now(done.card)
    await show(context, put_aside)
    t = turns.translator(handled.language)
    await send(context, handled.replies, t, cards=turns.cards, person_id=person_id)
    return done.card


def answer_of(data: dict[str, Any]) -> tuple[Any, str]:
    """A button sends ``value`` (and its label); an input card sends ``answer``."""
    if "value" in data:
        return data["value"], str(data.get("label") or data["value"])
    answer = data.get("answer")
    labels = data.get("labels") or {}
    return answer, str(labels.get(answer, answer) if answer is not None else "")
