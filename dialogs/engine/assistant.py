"""Help with the words: follow-up questions, a summary of the year, a digest opening and
experiment ideas.

Dialogs ask an :class:`Assistant` and never know where the answer came from. The one here,
:class:`ContentAssistant`, is deterministic and uses only the content files; it is what runs
when AI assistance is off. ``bot/llm.py`` wraps it with a model (optional, off by default) and
falls back to it whenever the model cannot or may not be used. The only thing a dialog asks is
``ai``: whether to ask the person's consent before text of theirs could go to a model.

A model is never called while a transaction is open (on SQLite that would hold the one write
lock for as long as the model takes). :func:`run_in_transaction` runs a unit of work — a turn,
the digest job — with :class:`ModelCalls` on its session: an assistant that needs the model
notes a :class:`ModelRequest` there and carries on as if the model had not answered; when the
work is done the transaction is rolled back, the requests are sent with nothing open, and the
work runs again from the start with the answers at hand, then commits. It re-reads everything,
so what it commits fits the state at commit time; a request that comes out different (someone
changed what it was made of) is asked again, at most ``rounds`` times, then done without.
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from dialogs.engine.content import Content, Question
from dialogs.engine.text import normalise_keyword, shorten
from storage.llm_usage import record_usage
from storage.models import Answer, Experiment, ExperimentStatus, Person, ProfileEntry, utcnow
from storage.privacy import SharedItems

log = logging.getLogger(__name__)
T = TypeVar("T")

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
    conversations: int | None = None
    """Reflection conversations the answers were given in ("you reflected n times"); None
    when not known, then each answer counts as one."""

    def __bool__(self) -> bool:
        return bool(self.answers or self.experiments)


# -- model calls outside the transaction -----------------------------------------------------

MODEL_ROUNDS = 2
"""Times one unit of work may go out to the model (a second time only when a request changed
under it); after that it carries on without."""
PARALLEL_REQUESTS = 4
"""Requests sent at the same time when a unit of work needs several (the digest job)."""
_CALLS = "regie.model_calls"
"""Where :class:`ModelCalls` lives in ``Session.info``."""


@dataclass(frozen=True)
class ModelReply:
    """What came back: the text (None after a timeout, an error, an empty answer), and the
    tokens it cost when a response arrived at all."""

    text: str | None
    answered: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    at: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class ModelRequest:
    """One request, prepared inside the transaction and sent outside it. ``key`` says what was
    asked (model, instructions, data): the same key gets the same answer."""

    key: str
    feature: str
    send: Callable[[], ModelReply] = field(compare=False, repr=False)
    """Makes the call (network; never raises). Only :func:`run_in_transaction` calls it."""


class ModelCalls:
    """The model's answers for one unit of work, and the requests it still needs."""

    def __init__(self, answers: dict[str, ModelReply], *, collect: bool) -> None:
        self.answers = answers
        self.collect = collect
        """False on the last pass: what is not answered by then is done without."""
        self.pending: dict[str, ModelRequest] = {}

    def answer(self, request: ModelRequest) -> ModelReply | None:
        """The answer if the request was sent already, else None."""
        return self.answers.get(request.key)

    def ask(self, request: ModelRequest) -> None:
        """Send ``request`` once the transaction is closed (the caller goes on without it)."""
        if self.collect:
            self.pending.setdefault(request.key, request)
        else:
            log.info(
                "AI %s: the request changed while it was out; carrying on without it",
                request.feature,
            )


def model_calls(db: Session) -> ModelCalls | None:
    """The unit of work's model calls, when ``db`` is run by :func:`run_in_transaction`."""
    calls = db.info.get(_CALLS)
    return calls if isinstance(calls, ModelCalls) else None


def run_in_transaction(
    engine: Engine, work: Callable[[Session], T], *, rounds: int = MODEL_ROUNDS
) -> T:
    """``work(db)`` in one transaction that commits, with every model request it makes sent
    while no transaction is open (see the module's note). ``work`` may therefore run more than
    once: it must write only through ``db`` and keep no other state between runs."""
    answers: dict[str, ModelReply] = {}
    for attempt in range(rounds + 1):
        calls = ModelCalls(answers, collect=attempt < rounds)
        with Session(engine, expire_on_commit=False) as db:
            db.info[_CALLS] = calls
            result = work(db)
            if not calls.pending:
                db.commit()
                return result
            db.rollback()
        _send(engine, calls.pending.values(), answers)
    raise AssertionError("the last pass never collects")  # pragma: no cover


def _send(engine: Engine, requests: Iterable[ModelRequest], answers: dict[str, ModelReply]) -> None:
    """Send ``requests`` (no transaction open), then record the tokens of those answered in one
    short transaction of their own: spent is spent, whatever the unit of work does next."""
    todo = list(requests)
    if len(todo) == 1:
        replies = [_safely(todo[0])]
    else:
        with ThreadPoolExecutor(max_workers=min(PARALLEL_REQUESTS, len(todo))) as pool:
            replies = list(pool.map(_safely, todo))
    for request, reply in zip(todo, replies, strict=True):
        answers[request.key] = reply
    spent = [(r, a) for r, a in zip(todo, replies, strict=True) if a.answered]
    if spent:
        with Session(engine) as db:
            for request, reply in spent:
                record_usage(
                    db,
                    feature=request.feature,
                    prompt_tokens=reply.prompt_tokens,
                    completion_tokens=reply.completion_tokens,
                    now=reply.at,
                )
            db.commit()


def _safely(request: ModelRequest) -> ModelReply:
    try:
        return request.send()
    except Exception as exc:  # never let AI break a conversation
        log.warning(
            "AI %s failed (%s); carrying on without it", request.feature, type(exc).__name__
        )
        return ModelReply(None)


# -- the assistant -----------------------------------------------------------------------------


class Assistant(Protocol):
    """Every method gets the unit of work's session: an assistant that needs the model asks
    through :func:`model_calls` and never calls it itself."""

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
        times = len(reflections) if items.conversations is None else items.conversations
        key = "reflections_one" if times == 1 else "reflections"
        lines.append(t(key, count=times, topics=t("and").join(topics) or "—"))
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
