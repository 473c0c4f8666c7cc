"""Proactive Teams messages for the outbox, through the stored conversation reference."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.channels.registry import TEAMS
from bot.channels.teams.bot import TeamsBot
from bot.ratelimit import AdaptiveRate
from bot.senders import NOT_SENT, Lookup, SendResult
from dialogs.engine.replies import Reply
from storage.models import Person


class TeamsSender:
    channel = "teams"
    lookups: AdaptiveRate | None = None
    """Teams has no look-up to pace (``already_sent`` asks nobody)."""

    def __init__(self, bot: TeamsBot, *, rate: float = 50.0, per_conversation: float = 7.0) -> None:
        self.bot = bot
        self.limiter = AdaptiveRate(rate, per_conversation=per_conversation)

    def can_reach(self, person: Person) -> bool:
        return TEAMS.can_reach(person)  # the registry's one answer

    async def already_sent(
        self, person: Person, keys: Sequence[str], *, since: datetime
    ) -> dict[str, Lookup]:
        """Teams offers no way to look at what a bot sent: "not sent", so they are sent again
        (at most one duplicate per crash)."""
        return dict.fromkeys(keys, NOT_SENT)

    async def send(self, person: Person, replies: Sequence[Reply], *, key: str) -> SendResult:
        assert person.id is not None
        return await self.bot.notify(person.id, replies)
