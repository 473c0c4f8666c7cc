"""The channels Regie speaks on, in one place: `regie serve` starts the chat channels that the
settings turn on, the outbox delivers through their senders (in this order: the first that can
reach a person is theirs), and a campaign launch tells who none of them can reach, and why.

People no chat channel can reach get their messages in the console, ``regie chat``: the
fallback. Nothing here imports a platform SDK; each chat channel's ``factory`` module (in its
own package) is imported only when the channel is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from bot.config import Settings
    from bot.senders import Sender
    from bot.server import Handler
    from dialogs.engine.runtime import Runtime
    from storage.models import Person


@dataclass(frozen=True)
class Running:
    """A chat channel started by ``regie serve``."""

    sender: Sender
    """Its sender for the outbox (sharing the channel's client or adapter)."""
    routes: Mapping[str, Handler] = field(default_factory=dict)
    """POST path -> handler, on the one HTTP server."""
    notes: tuple[str, ...] = ()
    """What the operator is told on stdout."""
    warnings: tuple[str, ...] = ()
    """What is logged as a warning."""


class Factory(Protocol):
    """What a chat channel's ``factory`` module provides."""

    def start(self, runtime: Runtime, engine: Engine, settings: Settings) -> Running: ...

    def sender(self, runtime: Runtime, engine: Engine, settings: Settings) -> Sender:
        """The sender alone, for delivering without serving (``regie run-due``)."""
        ...


@dataclass(frozen=True)
class Channel:
    name: str
    is_on: Callable[[Settings], bool]
    can_reach: Callable[[Person], bool]
    """The person has an account here that Regie knows: the one test, for delivery and launch."""
    off: str = ""
    """Logged by ``regie serve`` when the settings leave the channel off."""
    needs_conversation: str = ""
    """Non-empty when a message needs a conversation the person opened first (Teams): why
    someone with an account but no stored conversation cannot be reached."""
    load: Callable[[], Factory] | None = None
    """Imports the channel's ``factory`` module (a chat channel's SDK comes with it)."""

    def factory(self) -> Factory:
        assert self.load is not None, f"{self.name} has no factory"
        return self.load()


def _slack() -> Factory:
    from bot.channels.slack import factory

    return factory


def _teams() -> Factory:
    from bot.channels.teams import factory

    return factory


SLACK = Channel(
    "slack",
    is_on=lambda settings: settings.slack_enabled,
    can_reach=lambda person: bool(person.slack_user_id),
    off="Slack channel off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET to turn it on.",
    load=_slack,
)
TEAMS = Channel(
    "teams",
    is_on=lambda settings: settings.teams_enabled,
    can_reach=lambda person: bool(person.teams_aad_id),
    off="Teams channel off: set MICROSOFT_APP_ID (and MICROSOFT_APP_PASSWORD) to turn it on.",
    needs_conversation="has not opened Regie in Teams yet (no conversation to write to)",
    load=_teams,
)
CONSOLE = Channel("console", is_on=lambda _settings: True, can_reach=lambda _person: True)
"""The fallback: ``regie chat`` shows what waits for someone no chat channel reaches."""

CHAT: tuple[Channel, ...] = (SLACK, TEAMS)
"""The chat channels, in the order delivery tries them."""


def where(settings: Settings) -> str:
    """The address ``regie serve`` listens on, as the operator is told it."""
    return f"http://{settings.host}:{settings.port}"


def chat_channels(settings: Settings) -> list[Channel]:
    """The chat channels the settings turn on, in delivery order."""
    return [channel for channel in CHAT if channel.is_on(settings)]


def switches(settings: Settings) -> dict[str, bool]:
    """Each chat channel, on or off (what ``/healthz`` reports)."""
    return {channel.name: channel.is_on(settings) for channel in CHAT}


def senders(settings: Settings, runtime: Runtime, engine: Engine) -> list[Sender]:
    """One sender per chat channel that is on, in delivery order."""
    return [c.factory().sender(runtime, engine, settings) for c in chat_channels(settings)]


class Reachability:
    """Where each person's messages go and, when that is the console, why: a campaign launch's
    "who cannot be reached"."""

    def __init__(self, settings: Settings, conversations: Mapping[str, set[int]]) -> None:
        self.on = chat_channels(settings)
        self.conversations = conversations
        """Per channel that needs one, the people with a stored conversation."""

    @classmethod
    def load(cls, db: Session, settings: Settings) -> Reachability:
        from storage.addresses import people_with_address

        needing = [c.name for c in chat_channels(settings) if c.needs_conversation]
        return cls(settings, {name: people_with_address(db, name) for name in needing})

    def of(self, person: Person) -> tuple[str, str]:
        """The channel, and why the person cannot be reached in chat ("" if they can, or if no
        chat channel is on at all)."""
        for channel in self.on:
            if not channel.can_reach(person):
                continue
            if channel.needs_conversation and person.id not in self.conversations[channel.name]:
                return CONSOLE.name, channel.needs_conversation
            return channel.name, ""
        if not self.on:
            return CONSOLE.name, ""
        return CONSOLE.name, "no Slack or Teams account known; sees it at 'regie chat'"
