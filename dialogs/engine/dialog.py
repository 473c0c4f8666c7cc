"""Dialogs: an id, a version and named steps.

A step is a function of a :class:`Ctx`. Entered without an answer it usually returns
``Ask(prompt)``; called again with the (parsed, valid) answer it does its domain writes through
``ctx.db`` and returns what happens next: ``Goto`` another step, ``Retry`` the same question with
a message, ``Start`` another dialog, or ``End``. Steps return; the runtime sends and commits.

A turn's steps may run twice: when the assistant needs the model, the runtime rolls the first
run back, asks the model with no transaction open and runs the turn again with the answer
(:func:`dialogs.assist.run_in_transaction`). So a step writes only through ``ctx.db`` and says
only through ``ctx.replies``; nothing else it does may outlive the run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from dialogs.engine.assistant import Assistant
from dialogs.engine.calendar import NudgePolicy
from dialogs.engine.content import Content
from dialogs.engine.replies import Prompt, Reply, Say
from storage.models import Person


@dataclass(frozen=True)
class Ask:
    prompt: Prompt


@dataclass(frozen=True)
class Goto:
    step: str


@dataclass(frozen=True)
class Retry:
    """The answer parsed but does not make sense here: say why and ask the same again."""

    message: str


@dataclass(frozen=True)
class Start:
    dialog_id: str
    values: dict[str, Any] = field(default_factory=dict)
    step: str | None = None


@dataclass(frozen=True)
class End:
    pass


Next = Ask | Goto | Retry | Start | End
Step = Callable[["Ctx"], Next]
Precondition = Callable[["Ctx"], str | None]
"""Whether a dialog may start: None, or the text key of why not (checked before the open
conversation is put aside, so a refused start changes nothing)."""
Unreachable = Callable[[Session, list[Person]], dict[int, str]]
"""Who of some people no chat channel can reach (person id -> why)."""


def nobody_unreachable(db: Session, people: list[Person]) -> dict[int, str]:
    return {}


@dataclass
class Ctx:
    """What a step sees. ``values`` is the dialog's own JSON-safe memory."""

    person: Person
    db: Session
    content: Content
    now: datetime
    values: dict[str, Any]
    settings: DialogSettings
    assistant: Assistant
    """Follow-ups, summaries, ideas: from content, or from a model when AI assistance is on
    (then the first run of a turn gets the deterministic answer and the second the model's)."""
    answered: bool = False
    answer: Any = None
    replies: list[Reply] = field(default_factory=list)
    forgotten: bool = False
    """Set when the step deleted the person: the runtime then writes no session state."""

    @property
    def lang(self) -> str:
        return self.person.language

    @property
    def today(self) -> date:
        """The person's local date: what "today" means to them."""
        return self.now.astimezone(ZoneInfo(self.person.timezone)).date()

    def t(self, key: str, **values: Any) -> str:
        return self.content.text(self.lang, key, **values)

    def say(self, key: str, **values: Any) -> None:
        self.replies.append(Say(self.t(key, **values)))

    def say_text(self, text: str) -> None:
        self.replies.append(Say(text))


@dataclass(frozen=True)
class DialogSettings:
    """Organisation settings a dialog needs to say true things (e.g. the privacy promise)."""

    min_group_size: int = 5
    nudge_time: str = "09:30"
    policy: NudgePolicy = field(default_factory=NudgePolicy)
    """When nudges and campaign messages may come (time, working days, grace)."""
    campaigns_dir: str = "campaigns"
    """Where HR keeps campaign files ready to launch from chat."""
    stories_channel: bool = False
    """Whether a stories channel is configured (success stories may be posted there)."""
    campaign_approval_over: int = 50
    """A campaign launch reaching more people than this needs a second person's approval."""
    unreachable: Unreachable = nobody_unreachable
    """Who of these people no chat channel can reach, and why (``bot/wiring.py`` answers from
    the channels that are on; by default: nobody)."""


class Dialog:
    def __init__(self, dialog_id: str, *, version: int, first: str, title: str) -> None:
        self.id = dialog_id
        self.version = version
        self.first = first
        self.title = title
        """Content key of the dialog's name, for "I've put <title> aside"."""
        self.steps: dict[str, Step] = {}
        self.precondition: Precondition | None = None
        """Asked by the runtime before a global intent or a button starts this dialog (with
        the values it would start with, ``arg`` included); it reads, it never writes."""

    def step(self, name: str) -> Callable[[Step], Step]:
        def register(fn: Step) -> Step:
            if name in self.steps:
                raise ValueError(f"{self.id}: step {name!r} defined twice")
            self.steps[name] = fn
            return fn

        return register

    def add(self, name: str, fn: Step) -> None:
        self.step(name)(fn)
