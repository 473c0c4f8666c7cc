"""What one delivery pass claims (``bot/delivery.py``): a lane per sender, each with what that
sender's budget can send in a pass, so one platform's backlog never holds back another's; and,
between replicas, the send budgets they share through the database.

A lane selects its people the way delivery picks their sender (``bot/channels/registry.py``:
the first chat channel in order that can reach them, Teams only with a stored conversation): a
condition on ``Person`` that ``storage.outbox.claim_due`` applies in its one claim statement.
The people no sender reaches (the console's) have a lane of their own; nothing of theirs goes
over the network."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, false, not_, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from bot.channels.registry import CHAT, SLACK, TEAMS
from bot.senders import Sender
from storage.models import ChannelAddress, Person

ACCOUNT = {SLACK.name: col(Person.slack_user_id), TEAMS.name: col(Person.teams_aad_id)}
"""The person's account on each chat channel: what the channel's ``can_reach`` tests."""
NEEDS_CONVERSATION = frozenset(c.name for c in CHAT if c.needs_conversation)
"""Channels that can write to someone only in a conversation they opened first (Teams): a
person without one is not theirs yet (``Reachability``), so their messages wait for the
console or a later pass instead of failing and being retried until they die."""


def reach(channel: str) -> ColumnElement[bool] | None:
    """The people ``channel``'s sender can write to now, as a condition on ``Person`` (the
    SQL twin of its ``can_reach``, plus a stored conversation where one is needed); None for a
    channel this does not know (then the pass claims in one lane, as before lanes)."""
    account = ACCOUNT.get(channel)
    if account is None:
        return None
    condition = and_(account.is_not(None), account != "")
    if channel in NEEDS_CONVERSATION:
        opened = select(col(ChannelAddress.person_id)).where(col(ChannelAddress.channel) == channel)
        condition = and_(condition, col(Person.id).in_(opened))
    return condition


@dataclass(frozen=True)
class Lane:
    """What one pass claims for one sender, or (``sender`` None) for everyone else."""

    sender: Sender | None
    who: ColumnElement[bool] | None
    """The people whose rows it claims (None: everyone)."""
    rows: int
    people: int | None
    """How many people's interrupted rows it may claim (None: no cap)."""


def lanes(
    senders: Sequence[Sender], seconds: float, *, unpaced: int, limit: int | None = None
) -> list[Lane]:
    """A lane per sender with what its budget can send in ``seconds`` (at least 1, at most
    ``limit``) and the people its look-up budget allows; then the lane of the people no sender
    reaches (``unpaced`` rows). One lane for everyone when a sender's channel is unknown here."""
    reaches = [reach(s.channel) for s in senders]
    if not senders or any(r is None for r in reaches):
        rows = sum(s.limiter.budget(seconds) for s in senders) if senders else unpaced
        budgets = [s.lookups for s in senders if s.lookups is not None]
        people = sum(b.budget(seconds) for b in budgets) if budgets else None
        return [Lane(None, None, _within(rows, limit), people)]
    found: list[Lane] = []
    earlier: list[ColumnElement[bool]] = []
    for sender, condition in zip(senders, reaches, strict=True):
        assert condition is not None
        who = and_(condition, not_(or_(false(), *earlier)))
        looks = sender.lookups.budget(seconds) if sender.lookups is not None else None
        found.append(Lane(sender, who, _within(sender.limiter.budget(seconds), limit), looks))
        earlier.append(condition)
    found.append(Lane(None, not_(or_(false(), *earlier)), _within(unpaced, limit), None))
    return found


def _within(rows: int, limit: int | None) -> int:
    rows = max(1, rows)
    return rows if limit is None else max(1, min(rows, limit))


@dataclass(frozen=True)
class SharedBudgets:
    """Send budgets shared through the database by every replica delivering the outbox
    (``storage/send_budget.py``): each pass takes its senders' slots there before it claims.
    ``clock`` is shared by the replicas (the wall clock; virtual in tests), ``sleep`` waits on
    it."""

    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    @classmethod
    def for_engine(cls, engine: Engine) -> SharedBudgets | None:
        """Shared on PostgreSQL, where several replicas can deliver one outbox; SQLite has one
        process, whose own budgets are the whole story."""
        return cls() if engine.dialect.name == "postgresql" else None
