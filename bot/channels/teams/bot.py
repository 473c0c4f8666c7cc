"""The Teams channel: a Bot Framework bot whose handlers only translate.

A message (typed text, or a card submit carrying a prompt reference) becomes a ``Turn``; the
replies become one activity with an Adaptive Card. On install the conversation reference is
stored and the person welcomed; the reference is refreshed on every turn and is what proactive
messages (nudges, digests) are sent through. Bot Framework types stay inside this folder.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from botbuilder.core import Bot, BotAdapter, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.schema import Activity, ActivityTypes, Attachment, ConversationReference
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bot.channels.teams.cards import CARD_CONTENT_TYPE, Translate, activities, settled_card
from bot.channels.teams.people import NotEnrolled, TeamsPeople, TeamsUser
from bot.config import Settings
from dialogs.engine.replies import Reply
from dialogs.engine.runtime import Handled, Outcome, Runtime, UnknownPerson
from dialogs.engine.turn import Action, Turn
from storage.addresses import address_of, forget_address, save_address
from storage.db import session_scope
from storage.models import Person, utcnow

log = logging.getLogger(__name__)
CHANNEL = "teams"
T = TypeVar("T")


@dataclass(frozen=True)
class Delivery:
    ok: bool
    reason: str = ""
    permanent: bool = False
    retry_after: float | None = None


PERMANENT_STATUS = {401, 403, 404}
"""Bot blocked or uninstalled, conversation gone: retrying will not help."""


class TeamsBot(Bot):
    def __init__(
        self, runtime: Runtime, engine: Engine, settings: Settings, adapter: BotAdapter
    ) -> None:
        self.runtime = runtime
        self.engine = engine
        self.settings = settings
        self.adapter = adapter
        self.people = TeamsPeople(engine, settings)
        self._saved: dict[int, tuple[str | None, ...]] = {}
        """Per person, what identifies their stored conversation reference (a cheap comparison
        on every turn; the reference is serialised and stored only when it changed)."""
        self._locks: dict[str, asyncio.Lock] = {}

    # -- inbound ------------------------------------------------------------------------

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        conversation_type = getattr(activity.conversation, "conversation_type", None)
        if conversation_type not in (None, "personal"):
            log.debug("ignored a Teams %s activity outside personal chat", activity.type)
            return
        if activity.type == ActivityTypes.message:
            await self._with_lock(context, self._on_message)
        elif activity.type == ActivityTypes.conversation_update and any(
            member.id != activity.recipient.id for member in activity.members_added or []
        ):
            await self._with_lock(context, self._on_install)
        elif activity.type == ActivityTypes.installation_update:
            if (activity.action or "").startswith("add"):
                await self._with_lock(context, self._on_install)
            else:
                await self._on_uninstall(context)
        else:
            log.debug("ignored Teams activity of type %s", activity.type)

    async def _on_message(self, context: TurnContext, person_id: int) -> None:
        activity = context.activity
        data = activity.value if isinstance(activity.value, dict) else None
        ref = data.get("regie") if data else None
        action = None
        label = ""
        if data and isinstance(data.get("regie_start"), str):  # a nudge's button
            turn = Turn(
                person_id=person_id,
                intent=data["regie_start"],
                inbound_id=_inbound_id(activity),
                channel=CHANNEL,
            )
            handled = await self._run(self.runtime.handle_turn, turn)
            t = self._translator(handled.language)
            if activity.reply_to_id and "p" in data:  # one offer: show what was chosen
                await self._settle(context, data, handled, str(data.get("label", "")), t)
            await self._send(context, handled.replies, t)
            return
        if isinstance(ref, dict):
            value, label = _answer_of(data or {})
            action = Action(
                value=value, session_id=ref.get("s"), step=ref.get("t"), seq=ref.get("q")
            )
        turn = Turn(
            person_id=person_id,
            text=None if action else (activity.text or ""),
            action=action,
            inbound_id=_inbound_id(activity),
            channel=CHANNEL,
        )
        handled = await self._run(self.runtime.handle_turn, turn)
        t = self._translator(handled.language)
        if isinstance(ref, dict) and activity.reply_to_id:
            await self._settle(context, ref, handled, label, t)
        await self._send(context, handled.replies, t)

    async def _on_install(self, context: TurnContext, person_id: int) -> None:
        turn = Turn(
            person_id=person_id,
            intent="greet",
            inbound_id=_inbound_id(context.activity),
            channel=CHANNEL,
        )
        handled = await self._run(self.runtime.handle_turn, turn)
        await self._send(context, handled.replies, self._translator(handled.language))

    async def _on_uninstall(self, context: TurnContext) -> None:
        person_id = await self._run(self.people.cached, _user(context.activity).key)
        if person_id is not None:
            await self._run(self._forget_address, person_id)
        log.info("Regie was removed from a personal chat")

    async def _with_lock(
        self, context: TurnContext, handler: Callable[[TurnContext, int], Any]
    ) -> None:
        user = _user(context.activity)
        lock = self._locks.setdefault(user.key, asyncio.Lock())
        async with lock:  # one turn at a time per person, so quick messages keep their order
            person_id = await self._person(context, user)
            if person_id is None:
                return
            if self._saved.get(person_id) != _where(context.activity):
                await self._run(self._remember_address, person_id, context.activity)
            try:
                await handler(context, person_id)
            except UnknownPerson:  # deleted since the id was cached; the next message enrols anew
                self.people.forget(user.key)

    # -- people and addresses -----------------------------------------------------------

    async def _person(self, context: TurnContext, user: TeamsUser) -> int | None:
        found = self.people.remembered(user.key)
        if found is None:
            found = await self._run(self.people.cached, user.key)
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
            return await self._run(self.people.link_or_enrol, user)
        except NotEnrolled:
            log.info("a Teams user is not enrolled and open enrolment is off")
            return None

    def _remember_address(self, person_id: int, activity: Activity) -> None:
        reference = TurnContext.get_conversation_reference(activity).serialize()
        with session_scope(self.engine) as db:
            save_address(db, person_id, CHANNEL, reference, now=utcnow())
        self._saved[person_id] = _where(activity)

    def _forget_address(self, person_id: int) -> None:
        with session_scope(self.engine) as db:
            forget_address(db, person_id, CHANNEL)
        self._saved.pop(person_id, None)

    # -- outbound -----------------------------------------------------------------------

    async def notify(self, person_id: int, replies: Sequence[Reply]) -> Delivery:
        """A proactive message through the stored conversation reference."""
        stored = await self._run(self._address, person_id)
        if stored is None:
            return Delivery(False, "not reachable in Teams yet")
        reference = ConversationReference().deserialize(stored)
        t = self._translator(await self._run(self._language, person_id))

        failures: list[Exception] = []

        async def send(context: TurnContext) -> None:
            # Caught here: the adapter's turn-error handler would otherwise swallow it (and
            # answer the person with an apology instead of the message).
            try:
                await self._send(context, list(replies), t)
            except Exception as error:
                failures.append(error)

        try:
            await self.adapter.continue_conversation(
                reference, send, self.settings.microsoft_app_id or ""
            )
            if failures:
                raise failures[0]
        except Exception as error:
            response = getattr(error, "response", None)
            status = getattr(response, "status_code", None)
            log.warning("proactive Teams message to person %s failed (%s)", person_id, status)
            retry = getattr(response, "headers", {}).get("Retry-After") if response else None
            return Delivery(
                False,
                f"Teams answered HTTP {status}" if status else type(error).__name__,
                permanent=status in PERMANENT_STATUS,
                retry_after=float(retry) if retry else None,
            )
        return Delivery(True)

    def _address(self, person_id: int) -> dict[str, Any] | None:
        with Session(self.engine) as db:
            return address_of(db, person_id, CHANNEL)

    async def _send(self, context: TurnContext, replies: Sequence[Reply], t: Translate) -> None:
        outgoing = [_activity(a) for a in activities(replies, t)]
        if outgoing:
            await context.send_activities(outgoing)

    async def _settle(
        self, context: TurnContext, ref: dict[str, Any], handled: Handled, label: str, t: Translate
    ) -> None:
        """Replace the submitted card by its question and the answer: no dangling inputs."""
        if handled.outcome not in (Outcome.HANDLED, Outcome.STALE):
            return
        note = (
            t("channel.answered", answer=label[:200])
            if handled.outcome == Outcome.HANDLED
            else t("channel.closed")
        )
        update = Activity(
            id=context.activity.reply_to_id,
            type=ActivityTypes.message,
            attachments=[
                Attachment(
                    content_type=CARD_CONTENT_TYPE,
                    content=settled_card(str(ref.get("p", "")), note),
                )
            ],
        )
        try:
            await context.update_activity(update)
        except Exception as error:
            log.info("could not update a submitted card: %s", type(error).__name__)

    def _language(self, person_id: int) -> str:
        with Session(self.engine) as db:
            person = db.get(Person, person_id)
            return person.language if person else self.settings.language

    def _translator(self, language: str) -> Translate:
        content = self.runtime.content
        return lambda key, **values: content.text(language, key, **values)

    @staticmethod
    async def _run(fn: Callable[..., T], *args: Any) -> T:
        """Database work off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _user(activity: Activity) -> TeamsUser:
    sender = activity.from_property
    timezone = getattr(activity, "local_timezone", None)
    return TeamsUser(
        key=getattr(sender, "aad_object_id", None) or f"bf:{sender.id}",
        name=getattr(sender, "name", None),
        email=None,
        locale=activity.locale,
        timezone=timezone,
    )


def _activity(data: dict[str, Any]) -> Activity:
    """A rendered activity as the SDK's type (built directly: msrest deserialising is slow)."""
    return Activity(
        type=data["type"],
        text=data.get("text"),
        text_format=data.get("textFormat"),
        attachments=[
            Attachment(content_type=a["contentType"], content=a["content"])
            for a in data.get("attachments", [])
        ]
        or None,
    )


def _where(activity: Activity) -> tuple[str | None, ...]:
    """What a proactive message needs to reach the same chat."""
    return (
        activity.service_url,
        activity.channel_id,
        getattr(activity.conversation, "id", None),
        getattr(activity.recipient, "id", None),
        getattr(activity.from_property, "id", None),
    )


def _inbound_id(activity: Activity) -> str | None:
    """Teams message ids are unique within a conversation, not across conversations."""
    if not activity.id:
        return None
    return f"teams:{activity.conversation.id}:{activity.id}"


def _answer_of(data: dict[str, Any]) -> tuple[Any, str]:
    """A button sends ``value`` (and its label); an input card sends ``answer``."""
    if "value" in data:
        return data["value"], str(data.get("label") or data["value"])
    answer = data.get("answer")
    labels = data.get("labels") or {}
    return answer, str(labels.get(answer, answer) if answer is not None else "")
