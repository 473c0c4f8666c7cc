"""What every Teams handler shares: who the sender is (enrolled on first contact), one turn at a
time per person and in order, the stored conversation reference kept fresh, and database work
off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.links import with_urls
from bot.channels.teams.addresses import Addresses
from bot.channels.teams.cards import Translate
from bot.channels.teams.people import NotEnrolled, TeamsPeople, TeamsUser
from bot.channels.teams.sent import SentCards
from bot.config import Settings
from dialogs.engine.replies import Prompt
from dialogs.engine.runtime import Handled, Runtime, UnknownPerson
from dialogs.engine.turn import Turn
from storage.db import session_scope
from storage.people import preferred_language

log = logging.getLogger(__name__)
T = TypeVar("T")
Handler = Callable[["TeamsTurns", TurnContext, int], Awaitable[None]]


class TeamsTurns:
    def __init__(self, runtime: Runtime, engine: Engine, settings: Settings) -> None:
        self.runtime = runtime
        self.engine = engine
        self.settings = settings
        self.people = TeamsPeople(engine, settings)
        self.addresses = Addresses(engine)
        self.cards = SentCards(engine, clock=lambda: self.runtime.clock())
        self._locks: dict[str, asyncio.Lock] = {}

    async def with_person(self, context: TurnContext, handler: Handler) -> None:
        """Run ``handler`` for the sender: one at a time per person, so quick messages keep
        their order, with their conversation reference stored first when it changed."""
        user = user_of(context.activity)
        lock = self._locks.setdefault(user.key, asyncio.Lock())
        async with lock:
            person_id = await self._person(context, user)
            if person_id is None:
                return
            if self.addresses.changed(person_id, context.activity):
                await off_loop(self.addresses.remember, person_id, context.activity)
            try:
                await handler(self, context, person_id)
            except UnknownPerson:  # deleted since the id was cached; the next message enrols anew
                self.people.forget(user.key)

    async def handle(self, turn: Turn) -> Handled:
        handled = await off_loop(self.runtime.handle_turn, turn)
        return with_urls(handled, self.settings.base_url)

    async def handle_and(
        self, turn: Turn, then: Callable[[Session, Handled], T]
    ) -> tuple[Handled, T]:
        """The turn, with ``then`` (the cards it settles) in its transaction: one trip off the
        event loop and one commit for all of it (``Runtime.handle_turn_and``)."""
        handled, result = await off_loop(self.runtime.handle_turn_and, turn, then)
        return with_urls(handled, self.settings.base_url), result

    async def stored(self, work: Callable[[Session], T]) -> T:
        """``work(db)`` off the event loop, in one transaction of its own."""

        def unit() -> T:
            with session_scope(self.engine) as db:
                return work(db)

        return await off_loop(unit)

    def open_prompt(self, db: Session, person_id: int) -> Prompt | None:
        """The question this person's conversation waits on, if any (read, nothing run)."""
        replies = self.runtime.resume_in(db, person_id)
        return next((r for r in reversed(replies) if isinstance(r, Prompt)), None)

    def language(self, person_id: int) -> str:
        with Session(self.engine) as db:
            return self.language_in(db, person_id)

    def language_in(self, db: Session, person_id: int) -> str:
        return preferred_language(db, person_id, self.settings.language)

    def translator(self, language: str) -> Translate:
        content = self.runtime.content
        return lambda key, **values: content.text(language, key, **values)

    async def _person(self, context: TurnContext, user: TeamsUser) -> int | None:
        found = self.people.remembered(user.key)
        if found is None:
            found = await off_loop(self.people.cached, user.key)
        if found is not None:
            return found
        try:
            member = await TeamsInfo.get_member(context, context.activity.from_property.id)
            email = member.email or member.user_principal_name
            user = TeamsUser(user.key, member.name or user.name, email, user.locale, user.timezone)
        except Exception as error:  # the roster is best effort: enrol without an e-mail
            log.info(
                "Teams get_member failed (%s); enrolling from the activity", type(error).__name__
            )
        try:
            return await off_loop(self.people.link_or_enrol, user)
        except NotEnrolled:
            log.info("a Teams user is not enrolled and open enrolment is off")
            return None


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """Database work off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def user_of(activity: Activity) -> TeamsUser:
    sender = activity.from_property
    return TeamsUser(
        key=getattr(sender, "aad_object_id", None) or f"bf:{sender.id}",
        name=getattr(sender, "name", None),
        email=None,
        locale=activity.locale or client_info(activity).get("locale"),
        timezone=client_timezone(activity),
    )


def client_info(activity: Activity) -> dict[str, Any]:
    """The ``clientInfo`` entity Teams adds to an activity (locale, country, platform,
    timezone), or nothing."""
    for entity in activity.entities or []:
        if getattr(entity, "type", None) == "clientInfo":
            return dict(getattr(entity, "additional_properties", None) or {})
    return {}


def client_timezone(activity: Activity) -> str | None:
    """The time zone of the person's Teams client: the activity's ``localTimezone``, else its
    ``clientInfo`` entity's (an install often carries only the latter)."""
    zone = getattr(activity, "local_timezone", None) or client_info(activity).get("timezone")
    return str(zone) if zone else None


def inbound_id(activity: Activity) -> str | None:
    """Teams message ids are unique within a conversation, not across conversations."""
    if not activity.id:
        return None
    return f"teams:{activity.conversation.id}:{activity.id}"
