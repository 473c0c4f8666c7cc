"""The cards Regie sent, so a card can be settled without losing what it said.

Teams replaces the whole message when a bot updates it: a card updated to only "✓ English"
would lose the welcome and the privacy promise above the question. So every card sent is kept
by its conversation and activity id, and per person the cards that ask their open question
(more than one when it was asked again, after "help" say), which are settled together when it
is answered, by typing or on any of them. A settled card is kept as it now shows, so a second
press on it (or the same press delivered again) is answered with it and runs nothing.

Kept in the database (``storage/teams_cards.py``), nothing in memory: every replica behind the
load balancer, and a restarted one, sees the same cards, and of two presses on one card arriving
at two replicas at once only the first runs its turn (``storage.teams_cards.press``). A card older
than ``REGIE_OUTBOX_RETENTION_DAYS`` (deleted by the retention job), or sent before the table
existed, is settled from its question (it travels in each button's data).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from dialogs.engine.replies import Prompt
from storage import teams_cards
from storage.db import session_scope
from storage.models import utcnow

T = TypeVar("T")

PRESS_LEASE = timedelta(minutes=2)
"""A press whose turn has not ended after this long died with its process: the card may be
pressed again (a turn takes seconds; an AI call gives up after ``REGIE_LLM_TIMEOUT``)."""


@dataclass(frozen=True)
class Card:
    """A card as sent (``sent``) and as it shows now (``now``)."""

    sent: dict[str, Any]
    now: dict[str, Any]
    settled: bool
    asking: bool
    """It asks the person's latest question (which may still be open)."""


class SentCards:
    """Every method reads or writes the database off the event loop, in a transaction of its
    own (:meth:`remember`: shared by the cards sent at the same time)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock
        self._unwritten: list[tuple[teams_cards.SentCard, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def remember(
        self,
        conversation: str,
        person_id: int,
        activity_id: str,
        card: dict[str, Any],
        prompt: Prompt | None,
    ) -> None:
        """A card that went out; ``prompt``: the question it asks (the person's open one).
        Returns once it is stored. Cards sent meanwhile (the outbox sends many at once) are
        stored together, in one transaction: one commit, not one per card."""
        sent = teams_cards.SentCard(
            conversation_id=conversation,
            activity_id=activity_id,
            person_id=person_id,
            card=card,
            prompt=prompt.to_dict() if prompt is not None else None,
            created_at=self.clock(),
        )
        stored = asyncio.get_running_loop().create_future()
        self._unwritten.append((sent, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write())
        await stored

    async def _write(self) -> None:
        """Write the cards waiting, batch after batch, until none is left: those that come
        while a batch is written go in the next. A batch that fails is written card by card,
        so that one card that cannot be stored (its person deleted meanwhile) fails alone."""
        while self._unwritten:
            batch, self._unwritten = self._unwritten, []
            try:
                await self._run(teams_cards.remember_all, [sent for sent, _ in batch])
            except Exception:
                for sent, stored in batch:
                    try:
                        await self._run(teams_cards.remember_all, [sent])
                    except Exception as error:
                        _settle(stored, error)
                    else:
                        _settle(stored, None)
            else:
                for _, stored in batch:
                    _settle(stored, None)

    async def find(self, conversation: str, activity_id: str | None) -> Card | None:
        """The card, if it is known (sent, and not deleted by retention since)."""
        if not activity_id:
            return None
        row = await self._run(teams_cards.find, conversation, activity_id)
        if row is None:
            return None
        now = row.shown if row.settled and row.shown is not None else row.card
        return Card(sent=row.card, now=now, settled=row.settled, asking=row.asking)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        def work() -> T:
            with session_scope(self.engine) as db:
                return fn(db, *args, **kwargs)

        return await asyncio.get_running_loop().run_in_executor(None, work)


def _settle(stored: asyncio.Future[None], error: Exception | None) -> None:
    if stored.done():  # its sender gave up waiting
        return
    if error is None:
        stored.set_result(None)
    else:
        stored.set_exception(error)
