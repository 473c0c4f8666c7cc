"""Sending politely: a budget per platform method that slows down when the platform says 429
and recovers slowly, honours ``Retry-After``, may allow a small burst, and keeps a minimum
spacing per conversation (Slack: about 1 message a second per channel; Teams: 7 a second per
conversation).

The same budget paces sends (``chat.postMessage``, Teams' connector) and the look-ups crash
recovery makes (Slack's ``conversations.history``, a Tier 3 method: about 50 a minute), and it
tells the delivery worker how many calls fit in one pass (``budget``), so the worker claims
only what it can serve."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

TIER_3_PER_MINUTE = 50
"""Slack's Tier 3 (``conversations.history``, ``conversations.open``): 50+ calls a minute."""
TIER_3_BURST = 10
TIER_3_RATE = (TIER_3_PER_MINUTE - TIER_3_BURST) / 60.0
"""Per second, so that a burst plus a minute's steady calls stay within Tier 3's 50 a minute."""


class AdaptiveRate:
    """Slots at ``rate`` a second (a burst of ``burst`` slots allowed when idle), each at least
    ``1 / per_conversation`` seconds after the last one of the same conversation.

    A generic cell rate algorithm: ``_next`` is when the next slot is due at the steady rate; a
    slot may start up to ``(burst - 1) / rate`` seconds earlier than that. Time comes from
    ``clock`` and waiting from ``sleep`` (tests pass a virtual clock)."""

    def __init__(
        self,
        rate: float,
        *,
        per_conversation: float | None = None,
        floor: float = 0.5,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.ceiling = rate
        self.rate = rate
        self.floor = min(floor, rate)
        self.burst = max(1, burst)
        self.spacing = 1.0 / per_conversation if per_conversation else 0.0
        self.clock = clock
        self.sleep = sleep
        self._next = -math.inf
        self._until = math.inf
        self._slowed = -math.inf
        self._last: dict[str, float] = {}

    @property
    def _tolerance(self) -> float:
        return (self.burst - 1) / self.rate

    def _first_slot(self, now: float) -> float:
        return max(now, self._next - self._tolerance)

    async def acquire(self, conversation: str = "", *, within: float | None = None) -> bool:
        """Wait for a slot in the budget (and for this conversation's spacing) and take it.
        With ``within``: when no slot is free within that many seconds (the platform asked us
        to hold off, or the budget is spent), take nothing and return False at once."""
        at = self.reserve(conversation, within=within)
        if at is None:
            return False
        delay = at - self.clock()
        if delay > 0:
            await self.sleep(delay)
        return True

    def reserve(self, conversation: str = "", *, within: float | None = None) -> float | None:
        """Take the next slot and say when it starts (``clock`` time), without waiting; None,
        taking nothing, when it would start more than ``within`` seconds from now or outside
        the shared budget's ``window``. (No await in here: one event loop's callers take slots
        one at a time.)"""
        now = self.clock()
        at = self._first_slot(now)
        if conversation:
            at = max(at, self._last.get(conversation, -math.inf) + self.spacing)
        if within is not None and at - now > within:
            return None
        if at >= self._until:  # past the slots taken from a shared budget: not ours
            return None
        self._next = max(now, self._next) + 1.0 / self.rate
        if conversation:
            self._last[conversation] = at
        return at

    def budget(self, seconds: float) -> int:
        """How many slots start within the next ``seconds`` (spacing per conversation aside):
        what one pass of the delivery worker can serve. 0 while the platform asked us to wait
        longer than that."""
        now = self.clock()
        base = max(now, self._next)  # where the steady-rate slots continue from
        room = now + seconds + self._tolerance - base
        return int(room * self.rate) + 1 if room >= 0 else 0

    def hold(self, seconds: float) -> None:
        """The platform said 429 with ``Retry-After``: no slot before then, and no burst right
        after (the next slots come at the steady rate)."""
        until = self.clock() + max(0.0, seconds)
        self._next = max(self._next, until + self._tolerance)

    def window(self, start: float, end: float) -> None:
        """The slots from ``start`` until ``end`` seconds from now are this process's (taken
        from a budget shared with other replicas, ``storage/send_budget.py``): none before,
        and none from ``end`` on — a send that fell behind waits for the next pass rather than
        take a slot another replica holds."""
        now = self.clock()
        self._next = max(self._next, now + start)
        self._until = now + end

    def held_for(self) -> float:
        """Seconds until the next slot (0 when one is free now)."""
        now = self.clock()
        return max(0.0, self._first_slot(now) - now)

    def slow_down(self) -> None:
        """The platform said 429: take a tenth off the budget (once a second at most: a burst
        of 429s is one signal), never below the floor."""
        now = self.clock()
        if now - self._slowed >= 1.0:
            self._slowed = now
            self.rate = max(self.floor, self.rate * 0.9)

    def recovered(self) -> None:
        """A call went through: creep back towards the configured budget."""
        self.rate = min(self.ceiling, self.rate * 1.02 + 0.01)
