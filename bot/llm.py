"""Optional AI assistance over any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, a local
server): the only module that imports ``openai``.

:class:`LlmAssistant` is the dialogs' :class:`~dialogs.assist.Assistant` with a model behind
it. Before anything leaves it checks, in this order: the person agreed (a consent record "ai";
for a digest, each team member whose items would be used), the month's token budget is not
spent. The person's text is masked (e-mail addresses, phone numbers, names of people Regie
knows) and sent as JSON inside a ``<data>`` block, never as instructions. The answer is cleaned
like anything a person types, length-limited and checked for its shape (a follow-up must be
one question); anything else, and any timeout, HTTP error or surprise, quietly falls back to
the deterministic :class:`~dialogs.assist.ContentAssistant`. Nothing here raises into a turn,
and no text anyone wrote is logged.

The checks and the request are made inside the turn's (or the digest job's) transaction; the
call itself is not: the request is handed to :func:`dialogs.assist.run_in_transaction`, which
sends it with no transaction open and runs the work again with the answer (usage is recorded
then, in a short transaction of its own). So a slow model holds up nobody else's turn.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any

import openai
from sqlmodel import Session

from bot.config import Settings
from dialogs.engine.assistant import (
    Assistant,
    ContentAssistant,
    ModelReply,
    ModelRequest,
    Suggestion,
    YearItems,
    model_calls,
)
from dialogs.engine.content import Content, Question
from dialogs.engine.masking import Masker, has_placeholder
from dialogs.engine.text import clean, shorten
from storage.consent import consented
from storage.llm_usage import month_of, tokens_used
from storage.models import Answer, ConsentKind, Experiment, Person, ProfileEntry, utcnow
from storage.people import all_names
from storage.privacy import SharedItems

log = logging.getLogger(__name__)

FOLLOW_UP_CHARS = 200
SUMMARY_CHARS = 1200
OPENING_CHARS = 400
IDEA_CHARS = 60
IDEAS = 3
ITEM_CHARS = 600
"""Longest piece of a person's text sent in one field (older, longer texts are shortened)."""
ITEMS = 30
"""Most items of one kind sent in one request (the newest)."""
_LIST_MARK = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s*")


def make_client(settings: Settings) -> openai.OpenAI:
    """The one client: no retries (a slow model must not hold a conversation), the configured
    timeout, and the base URL that makes Azure OpenAI or any compatible server work."""
    assert settings.openai_api_key is not None
    return openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url or None,
        timeout=settings.llm_timeout,
        max_retries=0,
    )


def build_assistant(settings: Settings, content: Content) -> Assistant:
    """The assistant for this deployment: the model when ``REGIE_LLM=on`` (with a key), else the
    deterministic one."""
    if settings.llm != "on":
        return ContentAssistant(content)
    if settings.openai_api_key is None:
        log.warning("REGIE_LLM=on but OPENAI_API_KEY is not set: AI assistance stays off")
        return ContentAssistant(content)
    return LlmAssistant(
        client=make_client(settings),
        model=settings.llm_model,
        content=content,
        monthly_budget=settings.llm_monthly_token_budget,
    )


class LlmAssistant:
    ai = True

    def __init__(
        self,
        *,
        client: openai.OpenAI,
        model: str,
        content: Content,
        monthly_budget: int,
        fallback: ContentAssistant | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.client = client
        self.model = model
        self.content = content
        self.monthly_budget = monthly_budget
        self.fallback = fallback or ContentAssistant(content, follow_ups=True)
        self.clock = clock

    # -- the four features -------------------------------------------------------------

    def follow_up(
        self, db: Session, person: Person, *, question: Question, answer: str
    ) -> str | None:
        if self._agreed(db, [person]):
            masker = self._masker(db)
            data = {"question": question.text[person.language], "answer": _field(masker, answer)}
            reply = self._complete(db, "follow_up", person.language, data)
            found = as_question(reply, masker)
            if found:
                return found
        return self.fallback.follow_up(db, person, question=question, answer=answer)

    def summary(self, db: Session, person: Person, items: YearItems) -> str:
        if self._agreed(db, [person]):
            masker = self._masker(db)
            data = {
                "reflections": [
                    {"question": question_text(self.content, a, person.language), "answer": a.text}
                    for a in items.answers[-ITEMS:]
                ],
                "experiments": [_experiment(e) for e in items.experiments[-ITEMS:]],
            }
            reply = self._complete(db, "summary", person.language, _masked(masker, data))
            found = as_text(reply, masker, limit=SUMMARY_CHARS)
            if found:
                return found
        return self.fallback.summary(db, person, items)

    def digest_opening(
        self, db: Session, manager: Person, shared: Sequence[tuple[Person, SharedItems]]
    ) -> str | None:
        """From ``shared`` only (what read_team returned), and only the items of team members
        who agreed to AI help; without any, no opening."""
        agreed = self._consenting(db, [p for p, _ in shared])
        usable = [(p, items) for p, items in shared if p.id in agreed and items]
        if not usable:
            return None
        masker = self._masker(db)
        lang = manager.language
        data = {"team": [_shared(self.content, p, items, lang) for p, items in usable]}
        reply = self._complete(db, "digest_opening", lang, _masked(masker, data))
        return as_text(reply, masker, limit=OPENING_CHARS, one_line=True)

    def experiment_ideas(
        self,
        db: Session,
        person: Person,
        *,
        profile: Sequence[ProfileEntry],
        experiments: Sequence[Experiment],
    ) -> list[Suggestion]:
        listed = self.fallback.experiment_ideas(
            db, person, profile=profile, experiments=experiments
        )
        if not self._agreed(db, [person]):
            return listed
        masker = self._masker(db)
        data = {
            "profile": [{"kind": e.kind, "text": e.text} for e in profile[-ITEMS:]],
            "experiments": [_experiment(e) for e in experiments[-ITEMS:]],
        }
        reply = self._complete(db, "experiment_ideas", person.language, _masked(masker, data))
        known = {s.text.casefold() for s in listed} | {e.title.casefold() for e in experiments}
        ideas = [i for i in as_lines(reply, masker, limit=IDEA_CHARS) if i.casefold() not in known]
        return [Suggestion(text) for text in ideas[:IDEAS]] + listed

    # -- the one way out ---------------------------------------------------------------

    def _complete(self, db: Session, feature: str, lang: str, data: Any) -> str | None:
        """The model's answer, or None: not asked yet (the request is noted and sent once the
        transaction is closed, see :func:`dialogs.assist.run_in_transaction`), budget spent,
        timeout, error. Never a network call here: ``db`` may hold the write lock."""
        calls = model_calls(db)
        if calls is None:
            log.warning(
                "AI %s asked for outside run_in_transaction; carrying on without it", feature
            )
            return None
        try:
            request, estimate = self._request(feature, lang, data)
        except Exception as exc:  # a broken prompts file must not break a conversation
            log.warning(
                "AI %s not prepared (%s); carrying on without it", feature, type(exc).__name__
            )
            return None
        known = calls.answer(request)
        if known is not None:
            return known.text
        if tokens_used(db, month_of(self.clock())) + estimate > self.monthly_budget:
            log.warning("AI %s skipped: the monthly token budget is spent", feature)
            return None
        calls.ask(request)
        return None

    def _request(self, feature: str, lang: str, data: Any) -> tuple[ModelRequest, int]:
        """The request for ``feature`` and an estimate of its tokens (for the budget)."""
        prompts = self.content.prompts
        system = str(prompts[feature][lang])
        max_tokens = int(prompts[feature]["max_tokens"])
        user = f"{prompts['data_note'][lang]}\n<data>\n{as_data(data)}\n</data>"
        estimate = (len(system) + len(user)) // 3 + max_tokens
        asked = json.dumps([self.model, system, user, max_tokens], ensure_ascii=False)
        key = hashlib.sha256(asked.encode()).hexdigest()
        send = partial(self._send, feature, system, user, max_tokens, estimate)
        return ModelRequest(key=key, feature=feature, send=send), estimate

    def _send(
        self, feature: str, system: str, user: str, max_tokens: int, estimate: int
    ) -> ModelReply:
        """The call itself, made by ``run_in_transaction`` with no transaction open."""
        at = self.clock()
        try:
            response = self.client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                max_tokens=max_tokens,
                temperature=0.4,
            )
            usage = response.usage
            text = response.choices[0].message.content if response.choices else None
            return ModelReply(
                text,
                answered=True,
                prompt_tokens=usage.prompt_tokens if usage else estimate - max_tokens,
                completion_tokens=usage.completion_tokens if usage else max_tokens,
                at=at,
            )
        except openai.APITimeoutError:
            log.warning("AI %s timed out; carrying on without it", feature)
        except openai.APIStatusError as exc:
            log.warning(
                "AI %s failed with HTTP %s; carrying on without it", feature, exc.status_code
            )
        except Exception as exc:  # never let AI break a conversation
            log.warning("AI %s failed (%s); carrying on without it", feature, type(exc).__name__)
        return ModelReply(None, at=at)

    # -- helpers -----------------------------------------------------------------------

    def _agreed(self, db: Session, people: list[Person]) -> bool:
        return bool(people) and len(self._consenting(db, people)) == len(people)

    def _consenting(self, db: Session, people: list[Person]) -> set[int]:
        return consented(db, [p.id for p in people if p.id is not None], ConsentKind.AI)

    def _masker(self, db: Session) -> Masker:
        return Masker.for_names(all_names(db))


def as_data(data: Any) -> str:
    """JSON that cannot close the ``<data>`` block: < and > are written as JSON escapes."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def as_text(reply: str | None, masker: Masker, *, limit: int, one_line: bool = False) -> str | None:
    """The model's answer as user text: unmasked, cleaned like typed text, length-limited."""
    if not reply:
        return None
    text = clean(masker.unmask(reply))
    if one_line:
        text = " ".join(text.split())
    else:
        text = "\n".join(line for line in text.split("\n") if line.strip())
    if not text or "<data>" in text or "</data>" in text:
        return None
    return text if len(text) <= limit else shorten(text, limit)


def as_question(reply: str | None, masker: Masker) -> str | None:
    """One line ending in one question mark, not too long: otherwise it is not used."""
    text = as_text(reply, masker, limit=10_000)
    if text is None or "\n" in text or has_placeholder(text):
        return None
    text = text.strip().strip('"“”').strip()
    if len(text) > FOLLOW_UP_CHARS or not text.endswith("?") or text.count("?") > 1:
        return None
    return text


def as_lines(reply: str | None, masker: Masker, *, limit: int) -> list[str]:
    """Short ideas, one a line; list marks removed; over-long lines dropped."""
    text = as_text(reply, masker, limit=10_000)
    if text is None:
        return []
    found: list[str] = []
    for line in text.split("\n"):
        line = _LIST_MARK.sub("", line).strip().strip('"“”').strip()
        if line and len(line) <= limit and line not in found and not has_placeholder(line):
            found.append(line)
    return found


def _field(masker: Masker, text: str) -> str:
    return masker.mask(shorten(text, ITEM_CHARS))


def _masked(masker: Masker, data: Any) -> Any:
    """Every string in ``data`` masked (and shortened), numbering shared across the request."""
    if isinstance(data, str):
        return _field(masker, data)
    if isinstance(data, list):
        return [_masked(masker, item) for item in data]
    if isinstance(data, dict):
        return {key: _masked(masker, value) for key, value in data.items()}
    return data


def _experiment(item: Experiment) -> dict[str, Any]:
    return {
        "title": item.title,
        "status": item.status,
        "why": item.why,
        "learned": item.learned or "",
        "keep_doing": item.keep_doing or "",
    }


def question_text(content: Content, answer: Answer, lang: str) -> str:
    try:
        return content.question(answer.question_id).text[lang]
    except StopIteration:  # a summary, or a question since removed from the bank
        return ""


def _shared(content: Content, person: Person, items: SharedItems, lang: str) -> Any:
    return {
        "name": person.name,
        "experiments": [_experiment(e) for e in items.experiments],
        "reflections": [
            {"question": question_text(content, a, lang), "answer": a.text} for a in items.answers
        ],
        "plan": [{"kind": p.kind, "title": p.title} for p in items.plan_items],
        "check_ins": [{"energy": c.energy, "next_step": c.next_step} for c in items.check_ins],
    }
