"""Proactive messages (nudges, digests, campaign steps): sent through the stored conversation
reference with ``continue_conversation``; "not reachable in Teams yet" when there is none."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ConversationReference
from sqlmodel import Session

from bot.channels.teams.addresses import CHANNEL
from bot.channels.teams.sending import send
from bot.channels.teams.turns import TeamsTurns, off_loop
from bot.senders import SendResult
from dialogs.engine.replies import Reply
from storage.addresses import address_of
from storage.people import preferred_language

log = logging.getLogger(__name__)


PERMANENT_STATUS = {401, 403, 404}
"""Bot blocked or uninstalled, conversation gone: retrying will not help."""


async def notify(
    turns: TeamsTurns, adapter: BotAdapter, person_id: int, replies: Sequence[Reply]
) -> SendResult:
    stored, language = await off_loop(_where, turns, person_id)
    if stored is None:
        return SendResult(False, "not reachable in Teams yet")
    reference = ConversationReference().deserialize(stored)
    t = turns.translator(language)
    failures: list[Exception] = []

    async def deliver(context: TurnContext) -> None:
        # Caught here: the adapter's turn-error handler would otherwise swallow it (and
        # answer the person with an apology instead of the message).
        try:
            await send(context, list(replies), t, cards=turns.cards, person_id=person_id)
        except Exception as error:
            failures.append(error)

    try:
        await adapter.continue_conversation(
            reference, deliver, turns.settings.microsoft_app_id or ""
        )
        if failures:
            raise failures[0]
    except Exception as error:
        response = getattr(error, "response", None)
        status = getattr(response, "status_code", None)
        log.warning("proactive Teams message to person %s failed (%s)", person_id, status)
        retry = getattr(response, "headers", {}).get("Retry-After") if response else None
        return SendResult(
            False,
            f"Teams answered HTTP {status}" if status else type(error).__name__,
            permanent=status in PERMANENT_STATUS,
            retry_after=float(retry) if retry else None,
        )
    return SendResult(True)


def _where(turns: TeamsTurns, person_id: int) -> tuple[dict[str, Any] | None, str]:
    """The person's stored conversation reference and their language: one session, one hop
    off the event loop per message."""
    with Session(turns.engine) as db:
        return (
            address_of(db, person_id, CHANNEL),
            preferred_language(db, person_id, turns.settings.language),
        )
