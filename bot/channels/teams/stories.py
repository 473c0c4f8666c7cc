"""The organisation's stories channel in Teams: a success story posted as an Adaptive Card in
the channel set in ``REGIE_STORIES_TEAMS_CHANNEL`` and, once withdrawn, deleted again.

Both go through the proactive path (``continue_conversation`` on the adapter) with the
reference stored when Regie was added to the channel's team (``team.py``, ``teams_team``), so
the app must be in that team. A team Regie is not in (nothing stored, or Teams answering 403)
is something an administrator can fix, so it is tried again later like any transient error.
What deleting needs (the reference and the message's id) is kept with the story, so a story
is deleted even after Regie left the team's list or the setting changed.

The card is rendered like every reply (``cards.py``: card markdown escaped, so a story can
never become a mention, a link or a heading).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import ConversationAccount, ConversationReference
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.teams.addresses import CHANNEL
from bot.channels.teams.cards import activities
from bot.channels.teams.sending import to_activity
from bot.config import TeamsChannel
from bot.senders import SendResult
from dialogs.engine.replies import Say
from storage.teams_teams import team_of

NOT_IN_TEAM = "not_in_team"
"""The error of a post to a team Regie is not in (tried again: an administrator can add it)."""
NOT_IN_ROSTER = "BotNotInConversationRoster"
"""Teams' 403 code for a conversation the bot is not in (here: the app is not in the team)."""
REFUSED_FOR_GOOD = {400, 401, 404, 413}
"""A post answered like this will not go through by trying again (a bad card, a bot without
credentials, a channel that is gone); so is any 403 but ``NOT_IN_ROSTER`` (e.g. an
administrator blocked the app, or the message is not the bot's to delete)."""
ALREADY_GONE = {404}
"""A deletion answered like this has nothing left to delete: the story counts as deleted."""


class TeamsStories:
    """Posts to, and deletes from, one Teams channel."""

    platform = CHANNEL

    def __init__(
        self, adapter: BotAdapter, engine: Engine, channel: TeamsChannel | None, *, app_id: str
    ) -> None:
        self.adapter = adapter
        self.engine = engine
        self.channel = channel
        self.app_id = app_id

    def post(self, text: str, *, story_id: int) -> tuple[SendResult, dict[str, Any] | None]:
        """The story in the channel: the outcome, and what deleting it needs (the channel's
        reference and the message's id)."""
        assert self.channel is not None, "no stories channel in Teams is set"
        with Session(self.engine) as db:
            team = team_of(db, self.channel.channel_id, self.channel.group_id)
            stored = dict(team.reference) if team is not None else None
        if stored is None:
            return SendResult(False, error=NOT_IN_TEAM), None
        reference = ConversationReference().deserialize(stored)
        conversation = reference.conversation or ConversationAccount()
        reference.conversation = ConversationAccount(
            id=self.channel.channel_id,
            conversation_type="channel",
            is_group=True,
            tenant_id=conversation.tenant_id,
        )
        rendered = [to_activity(a) for a in activities([Say(text)], _no_buttons)]
        ids: list[str] = []

        async def send(context: TurnContext) -> None:
            context.activity.id = None  # a new post in the channel, not a reply to anything
            for response in await context.send_activities(rendered) or []:
                if response is not None and response.id:
                    ids.append(str(response.id))

        result = self._run(reference, send, permanent=REFUSED_FOR_GOOD)
        if not result.ok or not ids:
            return (result if not result.ok else SendResult(False, error="no id")), None
        return result, {"reference": reference.serialize(), "activities": ids}

    def delete(self, ref: dict[str, Any]) -> SendResult:
        """The posted message deleted; ``permanent``: Teams keeps it (``error`` says why)."""
        reference = ConversationReference().deserialize(ref["reference"])
        remaining = list(ref.get("activities") or [])

        async def delete(context: TurnContext) -> None:
            while remaining:
                try:
                    await context.delete_activity(remaining[0])
                except Exception as error:
                    if _status(error) not in ALREADY_GONE:
                        raise
                remaining.pop(0)

        return self._run(reference, delete, permanent=set())

    def _run(
        self,
        reference: ConversationReference,
        logic: Callable[[TurnContext], Awaitable[None]],
        *,
        permanent: set[int],
    ) -> SendResult:
        """``logic`` in the conversation, its failure as a ``SendResult`` (HTTP status, and
        Teams' ``Retry-After`` when it throttles)."""
        failures: list[Exception] = []

        async def caught(context: TurnContext) -> None:
            # Caught here: the adapter's turn-error handler would otherwise swallow it.
            try:
                await logic(context)
            except Exception as error:
                failures.append(error)

        async def run() -> None:
            await self.adapter.continue_conversation(reference, caught, self.app_id)

        try:
            asyncio.run(run())
            if failures:
                raise failures[0]
        except Exception as error:
            status = _status(error)
            if status is None:
                return SendResult(False, error=type(error).__name__)
            response = getattr(error, "response", None)
            retry = getattr(response, "headers", {}).get("Retry-After")
            code = _code(error)
            if code == NOT_IN_ROSTER:
                return SendResult(False, error=NOT_IN_TEAM)
            return SendResult(
                False,
                error=f"Teams answered HTTP {status}" + (f" {code}" if code else ""),
                permanent=status in permanent or status == 403,
                retry_after=float(retry) if retry else None,
            )
        return SendResult(True)


def _status(error: Exception) -> int | None:
    status = getattr(getattr(error, "response", None), "status_code", None)
    return int(status) if status is not None else None


def _code(error: Exception) -> str | None:
    """The code of a Bot Framework ``ErrorResponse`` (``BotNotInConversationRoster``…)."""
    code = getattr(getattr(getattr(error, "error", None), "error", None), "code", None)
    return str(code) if code else None


def _no_buttons(key: str, **values: Any) -> str:
    """A story has no buttons, so nothing of the bot's own to translate."""
    return key
