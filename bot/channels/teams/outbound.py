"""Proactive Teams messages for the outbox, through the stored conversation reference."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.channels.teams.bot import TeamsBot
from bot.delivery import SendResult
from bot.ratelimit import AdaptiveRate
from dialogs.replies import Reply
from storage.models import Person


class TeamsSender:
    channel = "teams"

    def __init__(self, bot: TeamsBot, *, rate: float = 50.0, per_conversation: float = 7.0) -> None:
        self.bot = bot
        self.limiter = AdaptiveRate(rate, per_conversation=per_conversation)

    def can_reach(self, person: Person) -> bool:
        return bool(person.teams_aad_id)

    async def already_sent(self, person: Person, *, key: str, since: datetime) -> bool:
        """Teams offers no way to look: resend (at most one duplicate per crash)."""
        return False

    async def send(self, person: Person, replies: Sequence[Reply], *, key: str) -> SendResult:
        assert person.id is not None
        delivery = await self.bot.notify(person.id, replies)
        return SendResult(
            delivery.ok,
            permanent=delivery.permanent,
            error=delivery.reason,
            retry_after=delivery.retry_after,
        )
