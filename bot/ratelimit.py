"""Sending politely: a send budget per platform that slows down when the platform says 429 and
recovers slowly, and a minimum spacing per conversation (Slack: about 1 message a second per
channel; Teams: 7 a second per conversation)."""

from __future__ import annotations

import asyncio
import time


class AdaptiveRate:
    def __init__(self, rate: float, *, per_conversation: float, floor: float = 0.5) -> None:
        self.ceiling = rate
        self.rate = rate
        self.floor = min(floor, rate)
        self.spacing = 1.0 / per_conversation
        self._next = 0.0
        self._slowed = 0.0
        self._last: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def acquire(self, conversation: str) -> None:
        """Wait for a slot in the budget and for this conversation's spacing."""
        async with self._lock:
            now = time.monotonic()
            at = max(now, self._next, self._last.get(conversation, 0.0) + self.spacing)
            self._next = max(now, self._next) + 1.0 / self.rate
            self._last[conversation] = at
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def slow_down(self) -> None:
        """The platform said 429: take a tenth off the budget (once a second at most: a burst
        of 429s is one signal), never below the floor."""
        now = time.monotonic()
        if now - self._slowed >= 1.0:
            self._slowed = now
            self.rate = max(self.floor, self.rate * 0.9)

    def recovered(self) -> None:
        """A send went through: creep back towards the configured budget."""
        self.rate = min(self.ceiling, self.rate * 1.02 + 0.01)
