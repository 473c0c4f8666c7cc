"""What goes out: ``Say`` and the prompts. A prompt parses and validates its own answer.

Prompts are plain data so the runtime can store the open prompt in the dialog session (a restart
re-asks exactly the same question) and every channel can render it natively.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from typing import Any, ClassVar

from dialogs.engine.text import normalise_keyword


@dataclass(frozen=True)
class Say:
    text: str
    section: bool = False
    """Part of a structured message (a digest): rich channels may show it as a card section."""
    kind: ClassVar[str] = "say"


@dataclass(frozen=True)
class Offer:
    """Something the bot says on its own with buttons that start a conversation (a nudge, a
    campaign message): ``actions`` are (intent, label) pairs — an intent may carry an argument
    after a colon (``campaign:12:kickoff:interested``); typing a plain intent word works as
    well. ``links`` are (label, url) pairs that open in the browser; ``image`` an https URL."""

    text: str
    actions: tuple[tuple[str, str], ...] = ()
    image: str | None = None
    links: tuple[tuple[str, str], ...] = ()
    kind: ClassVar[str] = "offer"

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": self.kind,
            "text": self.text,
            "actions": [list(a) for a in self.actions],
        }
        if self.image:
            data["image"] = self.image
        if self.links:
            data["links"] = [list(link) for link in self.links]
        return data


@dataclass(frozen=True)
class PersonalLink:
    """One link of :class:`PersonalLinks`: what it is for (a ``storage.models.LinkPurpose``
    value), its one-time token, and the label of its button."""

    purpose: str
    token: str
    label: str


@dataclass(frozen=True)
class PersonalLinks:
    """One-time links made for the person who asked (their data to download, a sign-in on
    the web): only a purpose and a token each, since dialogs know no URL. Slack and Teams show
    them as link buttons to ``regie serve`` (``bot/channels/links.py``); the console writes
    the files itself. Never queued in the outbox: the links expire within minutes."""

    text: str
    links: tuple[PersonalLink, ...]
    attached: bool = False
    """Shown as more buttons of the :class:`Offer` just before it where a channel can (Slack,
    Teams: "Add to calendar" on a confirmation), ``text`` then left out."""
    kind: ClassVar[str] = "links"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "links": [asdict(x) for x in self.links],
            "attached": self.attached,
        }


@dataclass(frozen=True)
class Choice:
    label: str
    value: str


@dataclass(frozen=True)
class ParseContext:
    """What parsing needs besides the answer: the person's local date, the answer words
    (yes/no/skip, relative dates) of both languages, since people mix them, and whether the
    answer was pressed (a button sends its option's value) or typed (a number is the position
    shown, never a value: values may be database ids)."""

    today: date
    words: Mapping[str, frozenset[str]]
    pressed: bool = False

    def means(self, text: str, word: str) -> bool:
        return normalise_keyword(text) in self.words.get(word, frozenset())


@dataclass(frozen=True)
class Parsed:
    ok: bool
    value: Any = None
    skipped: bool = False
    retry: str | None = None
    """Why an answer was refused, when the prompt's own retry text does not say it."""


INVALID = Parsed(ok=False)
SKIPPED = Parsed(ok=True, value=None, skipped=True)


@dataclass(frozen=True)
class Prompt(ABC):
    text: str
    retry: str
    skip_label: str | None = None
    """When set the question may be skipped; channels show it as an extra choice."""
    session_id: int | None = None
    step: str | None = None
    seq: int | None = None
    kind: ClassVar[str] = "prompt"

    def options(self) -> tuple[Choice, ...]:
        """The answers a channel can offer as buttons or a numbered list (may be empty)."""
        return ()

    def parse(self, answer: Any, ctx: ParseContext) -> Parsed:
        if self.skip_label is not None and self._is_skip(answer, ctx):
            return SKIPPED
        return self._parse(answer, ctx)

    def _is_skip(self, answer: Any, ctx: ParseContext) -> bool:
        """A skip button sends None; typed, "skip"/"overslaan" or the skip label itself."""
        if answer is None:
            return True
        if not isinstance(answer, str):
            return False
        label = normalise_keyword(self.skip_label or "")
        return ctx.means(answer, "skip") or normalise_keyword(answer) == label

    @abstractmethod
    def _parse(self, answer: Any, ctx: ParseContext) -> Parsed:
        """Parse an answer that is not a skip."""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind
        return data


def _pick(answer: Any, choices: tuple[Choice, ...], *, pressed: bool) -> Choice | None:
    """The choice a button sent (its exact value), or the one typed: a number is always the
    position shown (1-based), otherwise the label ("More…" also as "more"), or a value that
    is a plain word. A value with a digit in it (an id, a weekday number) is never typed."""
    if answer is None:
        return None
    raw = str(answer).strip()
    if pressed:
        return next((choice for choice in choices if raw == choice.value), None)
    if raw.isdigit():
        return choices[int(raw) - 1] if 1 <= int(raw) <= len(choices) else None
    key = _typed_key(raw)
    for choice in choices:
        if key == _typed_key(choice.label):
            return choice
    for choice in choices:
        if not any(ch.isdigit() for ch in choice.value) and key == _typed_key(choice.value):
            return choice
    return None


def _typed_key(text: str) -> str:
    return normalise_keyword(text).rstrip("…").strip()


@dataclass(frozen=True)
class TextPrompt(Prompt):
    max_chars: int = 1000
    long: bool = False
    """A hint that a long answer is expected (Slack may open a modal)."""
    required_retry: str = ""
    """Said when the skip word is typed at a question that cannot be skipped (the skip word is
    never stored as an answer); empty: the prompt's retry text."""
    kind: ClassVar[str] = "text"

    def _parse(self, answer: Any, ctx: ParseContext) -> Parsed:
        if not isinstance(answer, str) or not answer.strip():
            return INVALID
        if self.skip_label is None and ctx.means(answer, "skip"):
            return Parsed(ok=False, retry=self.required_retry or None)
        if len(answer) > self.max_chars:
            return INVALID
        return Parsed(ok=True, value=answer.strip())


@dataclass(frozen=True)
class ChoicePrompt(Prompt):
    choices: tuple[Choice, ...] = ()
    kind: ClassVar[str] = "choice"

    def options(self) -> tuple[Choice, ...]:
        return self.choices

    def _parse(self, answer: Any, ctx: ParseContext) -> Parsed:
        choice = _pick(answer, self.choices, pressed=ctx.pressed)
        return INVALID if choice is None else Parsed(ok=True, value=choice.value)


@dataclass(frozen=True)
class ScalePrompt(Prompt):
    low: int = 1
    high: int = 5
    low_label: str = ""
    high_label: str = ""
    kind: ClassVar[str] = "scale"

    def options(self) -> tuple[Choice, ...]:
        return tuple(Choice(str(n), str(n)) for n in range(self.low, self.high + 1))

    def _parse(self, answer: Any, ctx: ParseContext) -> Parsed:
        raw = str(answer).strip() if answer is not None else ""
        match = re.fullmatch(r"(\d+)(\s*/\s*\d+)?", raw)
        if match and self.low <= int(match.group(1)) <= self.high:
            return Parsed(ok=True, value=int(match.group(1)))
        return INVALID


@dataclass(frozen=True)
class ConfirmPrompt(Prompt):
    yes_label: str = "Yes"
    no_label: str = "No"
    destructive: bool = False
    """Yes cannot be undone ("delete all my data"): channels never style it as the happy path."""
    kind: ClassVar[str] = "confirm"

    def options(self) -> tuple[Choice, ...]:
        return (Choice(self.yes_label, "yes"), Choice(self.no_label, "no"))

    def _parse(self, answer: Any, ctx: ParseContext) -> Parsed:
        if isinstance(answer, bool):
            return Parsed(ok=True, value=answer)
        choice = _pick(answer, self.options(), pressed=ctx.pressed)
        if choice is not None:
            return Parsed(ok=True, value=choice.value == "yes")
        text = str(answer) if answer is not None else ""
        if ctx.means(text, "yes"):
            return Parsed(ok=True, value=True)
        if ctx.means(text, "no"):
            return Parsed(ok=True, value=False)
        return INVALID


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2,4}))?")


@dataclass(frozen=True)
class DatePrompt(Prompt):
    """Accepts 2026-12-01, 1-12-2026, 1/12 (the next such day) and today/tomorrow/next week
    /next month in Dutch and English; dates are returned as ISO strings (JSON-safe)."""

    kind: ClassVar[str] = "date"

    def _parse(self, answer: Any, ctx: ParseContext) -> Parsed:
        raw = str(answer).strip() if answer is not None else ""
        found = _relative(raw, ctx) or _absolute(raw, ctx.today)
        return INVALID if found is None else Parsed(ok=True, value=found.isoformat())


def _relative(raw: str, ctx: ParseContext) -> date | None:
    offsets = {"today": 0, "tomorrow": 1, "next_week": 7, "next_month": 30}
    for word, days in offsets.items():
        if ctx.means(raw, word):
            return ctx.today + timedelta(days=days)
    return None


def _absolute(raw: str, today: date) -> date | None:
    try:
        if match := _ISO.fullmatch(raw):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DMY.fullmatch(raw):
            day, month = int(match[1]), int(match[2])
            if match[3]:
                year = int(match[3])
                return date(year + 2000 if year < 100 else year, month, day)
            found = date(today.year, month, day)
            return found if found >= today else date(today.year + 1, month, day)
    except ValueError:
        return None
    return None


PROMPT_TYPES: dict[str, type[Prompt]] = {
    cls.kind: cls for cls in (TextPrompt, ChoicePrompt, ScalePrompt, ConfirmPrompt, DatePrompt)
}

Reply = Say | Prompt | Offer | PersonalLinks


def reply_to_dict(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, Say):
        return {"kind": "say", "text": reply.text, "section": reply.section}
    return reply.to_dict()


def reply_from_dict(data: Mapping[str, Any]) -> Reply:
    """Replies stored in the outbox, back as replies to render."""
    if data["kind"] == "say":
        return Say(data["text"], bool(data.get("section", False)))
    if data["kind"] == "offer":
        return Offer(
            data["text"],
            tuple((str(i), str(label)) for i, label in data["actions"]),
            image=data.get("image"),
            links=tuple((str(label), str(url)) for label, url in data.get("links", [])),
        )
    if data["kind"] == "links":
        return PersonalLinks(
            data["text"],
            tuple(PersonalLink(**dict(link)) for link in data["links"]),
            bool(data.get("attached", False)),
        )
    return prompt_from_dict(data)


def prompt_from_dict(data: Mapping[str, Any]) -> Prompt:
    """The inverse of ``Prompt.to_dict``: rebuilds the open prompt stored with a session."""
    values = dict(data)
    cls = PROMPT_TYPES[values.pop("kind")]
    if "choices" in values:
        values["choices"] = tuple(Choice(**c) for c in values["choices"])
    return cls(**values)


def with_ref(prompt: Prompt, *, session_id: int, step: str, seq: int) -> Prompt:
    return replace(prompt, session_id=session_id, step=step, seq=seq)


__all__ = [
    "INVALID",
    "PROMPT_TYPES",
    "SKIPPED",
    "Choice",
    "ChoicePrompt",
    "ConfirmPrompt",
    "DatePrompt",
    "Offer",
    "ParseContext",
    "Parsed",
    "PersonalLink",
    "PersonalLinks",
    "Prompt",
    "Reply",
    "Say",
    "ScalePrompt",
    "TextPrompt",
    "prompt_from_dict",
    "reply_from_dict",
    "reply_to_dict",
    "with_ref",
]
