"""A platform's send budget shared through the database by every process that delivers the
outbox (``regie serve`` and ``regie run-due`` replicas): together they never send faster than
the platform allows, and one that idles leaves its share to the others.

The budget is a row per platform (``storage.models.SendBudget``) holding ``free_from``, the
moment from which its slots are still free; slots follow each other at the platform's rate. A
delivery pass takes a run of consecutive slots that start within its horizon (what it can send
in one pass) with :func:`take`, claims at most that many messages, and keeps only what it
claimed (:meth:`Taken.keep`) — all in the claim's transaction, which holds the row (PostgreSQL:
its row lock; SQLite: the database's write lock) until it commits, so no two processes take the
same slot. A pass that could take none waits until :attr:`Taken.free_at`.

Times are seconds since the epoch from the caller's clock (the wall clock in production, shared
by the replicas within NTP's precision; a virtual one in tests)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col

from storage.db import insert_many_if_new
from storage.models import SendBudget


@dataclass
class Taken:
    """A run of slots of one platform's budget, taken in the caller's transaction."""

    name: str
    rate: float
    start: float
    """When the first slot starts."""
    slots: int
    """How many it holds (after :meth:`keep`: how many were kept)."""
    offered: int
    """How many it got when taken: 0 when other processes held every slot in the horizon."""
    free_at: float
    """When the budget has a free slot again (after the slots kept)."""

    def keep(self, db: Session, used: int) -> None:
        """Keep ``used`` of the slots (at most all of them) and give the rest back: the budget is
        free again from the end of the kept ones."""
        used = max(0, min(used, self.slots))
        self.slots = used
        self.free_at = self.start + used / self.rate
        db.connection().execute(
            update(SendBudget)
            .where(col(SendBudget.name) == self.name)
            .values(free_from=self.free_at)
        )


def take(
    db: Session,
    name: str,
    *,
    want: int,
    rate: float,
    now: float,
    horizon: float,
    at_least: int = 1,
    gap: float = 0.0,
) -> Taken:
    """Up to ``want`` consecutive slots at ``rate`` a second from platform ``name``'s budget,
    the first at the first free moment (not before ``now``), each starting before
    ``now + horizon``; fewer, or none, when other processes took the slots before that — and
    none rather than fewer than ``at_least`` (a pass is worth its claim). ``gap``: seconds left
    free after slots someone still holds (a process that falls a little behind its last slots
    does not send at the same moment as the next one's first). The budget row stays held
    until the caller's transaction ends: call :meth:`Taken.keep` with what was used before
    committing."""
    free_from = _hold(db, name)
    if free_from is None:
        insert_many_if_new(db, SendBudget, unique="name", rows=[{"name": name, "free_from": now}])
        free_from = _hold(db, name)
        assert free_from is not None
    start = free_from + gap if free_from > now else now
    room = now + horizon - start
    slots = max(0, min(want, math.ceil(room * rate - 1e-3)))  # float error is not a slot
    if slots < min(at_least, want):
        slots = 0
    return Taken(name, rate, start, slots, offered=slots, free_at=start)


def _hold(db: Session, name: str) -> float | None:
    """The budget's ``free_from``, its row held until the transaction ends: a write that
    changes nothing takes the row lock (PostgreSQL) or the write lock (SQLite) at once, so a
    second process reads it only after this one committed what it took."""
    held = (
        update(SendBudget)
        .where(col(SendBudget.name) == name)
        .values(free_from=col(SendBudget.free_from))
        .returning(col(SendBudget.free_from))
    )
    found = db.connection().execute(held).scalar_one_or_none()
    return None if found is None else float(found)
