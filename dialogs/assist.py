"""Help with the words: follow-up questions, a summary of the year, a digest opening and
experiment ideas.

Dialogs ask an :class:`Assistant` and never know where the answer came from. The one here,
:class:`ContentAssistant`, is deterministic and uses only the content files; it is what runs
when AI assistance is off. ``bot/llm.py`` wraps it with a model (optional, off by default) and
falls back to it whenever the model cannot or may not be used. The only thing a dialog asks is
``ai``: whether to ask the person's consent before text of theirs could go to a model.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session

from dialogs.content import Content, Question
from dialogs.text import normalise_keyword, shorten
from storage.models import Answer, Experiment, ExperimentStatus, Person, ProfileEntry
from storage.privacy import SharedItems

SUMMARY_DIALOG = "summary"
"""``Answer.dialog_id`` of a kept summary: an item like any other (share, export, delete)."""


@dataclass(frozen=True)
class Suggestion:
    """An experiment idea: one from the content list (``idea_id``) or a suggested one."""

    text: str
    idea_id: str | None = None


@dataclass(frozen=True)
class YearItems:
    """What a summary of the year is made of: the person's own reflections and experiments."""

    answers: list[Answer] = field(default_factory=list)
    experiments: list[Experiment] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.answers or self.experiments)


class Assistant(Protocol):
    @property
    def ai(self) -> bool:
        """True when a person's text may go to a model (so their consent is asked first)."""
        ...

    def follow_up(
        self, db: Session, person: Person, *, question: Question, answer: str
    ) -> str | None:
        """One short open question that builds on ``answer``, or None for no follow-up."""
        ...

    def summary(self, db: Session, person: Person, items: YearItems) -> str:
        """A short draft summary of the year, for the person to keep, edit or discard."""
        ...

    def digest_opening(
        self, db: Session, manager: Person, shared: Sequence[tuple[Person, SharedItems]]
    ) -> str | None:
        """Two sentences to open a digest, from ``shared`` only (what read_team returned)."""
        ...

    def experiment_ideas(
        self,
        db: Session,
        person: Person,
        *,
        profile: Sequence[ProfileEntry],
        experiments: Sequence[Experiment],
    ) -> list[Suggestion]:
        """Things to try, best first."""
        ...


class ContentAssistant:
    """Everything from the content files, nothing leaves. ``follow_ups`` is off unless AI
    assistance is on (then this is the fallback), so with AI off a reflection is unchanged."""

    ai = False

    def __init__(self, content: Content, *, follow_ups: bool = False) -> None:
        self.content = content
        self.follow_ups = follow_ups

    def follow_up(
        self, db: Session, person: Person, *, question: Question, answer: str
    ) -> str | None:
        if not self.follow_ups:
            return None
        return content_follow_up(self.content, person.language, question, answer)

    def summary(self, db: Session, person: Person, items: YearItems) -> str:
        return content_summary(self.content, person.language, items)

    def digest_opening(
        self, db: Session, manager: Person, shared: Sequence[tuple[Person, SharedItems]]
    ) -> str | None:
        return None

    def experiment_ideas(
        self,
        db: Session,
        person: Person,
        *,
        profile: Sequence[ProfileEntry],
        experiments: Sequence[Experiment],
    ) -> list[Suggestion]:
        """The content list, without ideas already tried (all of them once all were tried)."""
        tried = {e.idea_id for e in experiments if e.idea_id}
        ideas = [i for i in self.content.ideas if i.id not in tried] or list(self.content.ideas)
        return [Suggestion(i.text[person.language], i.id) for i in ideas]


def content_follow_up(content: Content, lang: str, question: Question, answer: str) -> str:
    """A fitting follow-up from content: "I don't know" gets a gentle one, a very short answer
    an invitation to say more, anything else one that fits the question's frame."""
    words = normalise_keyword(answer)
    unsure = content.texts[lang]["follow_up"]["unsure_words"]
    if any(normalise_keyword(w) in words for w in unsure):
        return content.text(lang, "follow_up.unsure")
    if len(answer.split()) < 4:
        return content.text(lang, "follow_up.short")
    variant = zlib.crc32(question.id.encode()) % 2 + 1
    return content.text(lang, f"follow_up.frames.{question.frame}_{variant}")


def content_summary(content: Content, lang: str, items: YearItems) -> str:
    def t(key: str, **values: object) -> str:
        return content.text(lang, f"summary.draft.{key}", **values)

    lines: list[str] = []
    reflections = [a for a in items.answers if a.dialog_id != SUMMARY_DIALOG]
    if reflections:
        counted = Counter(a.competency for a in reflections if a.competency)
        topics = [t(f"topics.{c}") for c, _ in counted.most_common(2)]
        key = "reflections_one" if len(reflections) == 1 else "reflections"
        lines.append(t(key, count=len(reflections), topics=t("and").join(topics) or "—"))
        longest = max(reflections, key=lambda a: len(a.text))
        lines.append(t("quote", text=shorten(longest.text, 160)))
    if items.experiments:
        done = [e for e in items.experiments if e.status == ExperimentStatus.DONE]
        titles = ", ".join(shorten(e.title, 60) for e in items.experiments[:5])
        lines.append(t("experiments", count=len(items.experiments), done=len(done), titles=titles))
        learned = [shorten(e.learned, 120) for e in items.experiments if e.learned]
        if learned:
            lines.append(t("learned", text="; ".join(learned[:3])))
        keep = [shorten(e.keep_doing, 120) for e in items.experiments if e.keep_doing]
        if keep:
            lines.append(t("keep", text="; ".join(keep[:2])))
    return "\n".join(lines)
