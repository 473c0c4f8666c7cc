"""What a sender promises the outbox worker (``bot/delivery.py``): the ``Sender`` protocol each
channel's outbox sender implements, what one send came to (``SendResult``) and what a look-up
after a crash found out (``Lookup``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.ratelimit import AdaptiveRate
from dialogs.engine.replies import Reply
from storage.models import Person


@dataclass(frozen=True)
class SendResult:
    """What a platform made of one send (every channel's senders answer with it): delivered
    (``ok``), or why not (``error``) and whether trying again can help — never
    (``permanent``), or not before ``retry_after`` seconds (the platform said so)."""

    ok: bool
    error: str = ""
    permanent: bool = False
    retry_after: float | None = None


class Seen(StrEnum):
    SENT = "sent"
    NOT_SENT = "not sent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Lookup:
    """What a sender found out about an interrupted message: it arrived (``SENT``: not sent
    again), it did not (``NOT_SENT``: send it now), or nobody can tell yet (``UNKNOWN``: the
    look-up failed or was throttled; ask again later, at least ``retry_after`` seconds on)."""

    seen: Seen
    error: str = ""
    retry_after: float | None = None

    @classmethod
    def unknown(cls, error: str, retry_after: float | None = None) -> Lookup:
        return cls(Seen.UNKNOWN, error, retry_after)


SENT = Lookup(Seen.SENT)
NOT_SENT = Lookup(Seen.NOT_SENT)


class Sender(Protocol):
    channel: str
    limiter: AdaptiveRate

    @property
    def lookups(self) -> AdaptiveRate | None:
        """The budget of the look-ups ``already_sent`` makes (None: it makes none)."""
        ...

    def can_reach(self, person: Person) -> bool: ...

    async def already_sent(
        self, person: Person, keys: Sequence[str], *, since: datetime
    ) -> dict[str, Lookup]:
        """After a crash mid-send: which of this person's interrupted messages reached the
        platform? ``since``: the earliest moment any of them can have been sent. One look-up
        serves all of a person's keys; a key missing from the answer counts as unknown."""
        ...

    async def send(self, person: Person, replies: Sequence[Reply], *, key: str) -> SendResult: ...
