"""The cards this process sent, so a card can be settled without losing what it said.

Teams replaces the whole message when a bot updates it: a card updated to only "✓ English"
would lose the welcome and the privacy promise above the question. So every card sent is kept
here by its activity id (the most recent :data:`LIMIT`), and per person the cards that ask their
open question (more than one when it was asked again, after "help" say), which are settled
together when it is answered, by typing or on any of them. Memory only, nothing stored: a card
sent before a restart is settled to its question and the answer (the question travels in each
button's data).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from dialogs.engine.replies import Prompt

LIMIT = 5000
"""Cards remembered (by activity id); older ones are settled from the button's data."""


@dataclass(frozen=True)
class Asked:
    """A card with an open question, as sent."""

    activity_id: str
    card: dict[str, Any]
    prompt: Prompt


class SentCards:
    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._cards: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._asked: dict[int, list[Asked]] = {}
        self._lock = threading.Lock()

    def remember(
        self, person_id: int | None, activity_id: str, card: dict[str, Any], prompt: Prompt | None
    ) -> None:
        """A card that went out; ``prompt``: the question it asks (the person's open one)."""
        with self._lock:
            self._cards[activity_id] = card
            self._cards.move_to_end(activity_id)
            while len(self._cards) > self.limit:
                self._cards.popitem(last=False)
            if person_id is not None and prompt is not None:
                asked = Asked(activity_id, card, prompt)
                same = [a for a in self._asked.get(person_id, []) if _ref(a.prompt) == _ref(prompt)]
                self._asked[person_id] = [*same, asked]

    def card(self, activity_id: str | None) -> dict[str, Any] | None:
        with self._lock:
            return self._cards.get(activity_id) if activity_id else None

    def asked(self, person_id: int) -> list[Asked]:
        """The cards that ask this person's last question (if it may still be open)."""
        with self._lock:
            return list(self._asked.get(person_id, []))

    def settled(self, person_id: int) -> list[Asked]:
        """The person's last question is answered (or closed): its cards, no longer open."""
        with self._lock:
            return self._asked.pop(person_id, [])


def _ref(prompt: Prompt) -> tuple[int | None, str | None, int | None]:
    return prompt.session_id, prompt.step, prompt.seq
