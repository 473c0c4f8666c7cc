"""Everything the bot says, loaded from the YAML files in ``dialogs/content``.

``en.yaml`` and ``nl.yaml`` hold the texts (same keys in both; a test checks), the words the bot
understands (yes/no/skip, intents) and labels; a feature may keep its texts in a file of its own
under ``en/`` and ``nl/``, merged in (a key defined twice is an error). ``questions.yaml`` is
the reflection question bank (and the questions of the Know/Flow/Glow/Grow field, which are
not in the rotation), ``ideas.yaml`` the experiment idea list, ``prompts.yaml`` the instructions
of the optional AI features.

A text that counts something has plural forms: a mapping of CLDR plural categories
(``{one: "{count} place", other: "{count} places"}``), chosen with ``count=`` by Babel's rules
for the language, the number written the language's way (1,000 / 1.000). ``{greeting}`` in a
text is "Good morning" and so on when the caller passes :meth:`Content.greeting` for the
person's local hour, and a greeting that fits any hour otherwise. A value that ends a sentence
itself ("Why not?") stands in for the text's own full stop after it, so "Noted: '{title}'."
never reads "Noted: 'Why not?'.".
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from babel import Locale
from babel.numbers import format_decimal

from dialogs.engine.text import normalise_keyword

CONTENT_DIR = Path(__file__).parent.parent / "content"
LANGUAGES = ("en", "nl")
DEFAULT_LANGUAGE = "en"
COMPETENCIES = (
    "motivation",
    "qualities",
    "networking",
    "self_profiling",
    "work_exploration",
    "career_steering",
)
FRAMES = ("know", "flow", "glow", "grow")
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})
"""The CLDR plural categories; a mapping of (some of) these, ``other`` included, is a text
with plural forms."""
GREETING_HOURS = (("any", 5), ("morning", 12), ("afternoon", 18), ("evening", 24))
"""Which greeting a local hour gets: before 05:00 the one that fits any hour, then morning
until noon, afternoon until 18:00, evening until midnight."""
SENTENCE_ENDS = ".?!…"
CLOSING_QUOTES = "’”'\"»"


@dataclass(frozen=True)
class Question:
    id: str
    competency: str
    frame: str
    text: dict[str, str]


@dataclass(frozen=True)
class Idea:
    id: str
    text: dict[str, str]


class Content:
    def __init__(self, directory: Path = CONTENT_DIR) -> None:
        self.texts: dict[str, dict[str, Any]] = {
            lang: _load_language(directory, lang) for lang in LANGUAGES
        }
        question_file = _load(directory / "questions.yaml")
        bank = question_file["questions"]
        self.questions = tuple(
            Question(q["id"], q["competency"], q["frame"], {lang: q[lang] for lang in LANGUAGES})
            for q in bank
        )
        self.ideas = tuple(
            Idea(i["id"], {lang: i[lang] for lang in LANGUAGES})
            for i in _load(directory / "ideas.yaml")["ideas"]
        )
        self.prompts: dict[str, Any] = _load(directory / "prompts.yaml")
        """System instructions of the optional AI features (bot/llm.py), per language."""
        self.exercise_questions = tuple(
            Question(q["id"], "", "", {lang: q[lang] for lang in LANGUAGES})
            for q in question_file.get("exercises", [])
        )
        """Questions of exercises other than the reflection (the field): how their answers
        read in the privacy centre and to a manager; never in the reflection's rotation."""
        self.words = self._words()
        self.intents = self._intents()
        self._raw: dict[tuple[str, str], str | Mapping[str, str]] = {}

    def text(self, lang: str, key: str, count: Any = None, **values: Any) -> str:
        """The text for ``key`` (dotted path) in ``lang``, falling back to English.

        A text with plural forms takes the form for ``count`` (also its ``{count}``). A caller
        that passes the number under another name is understood too: the one value none of
        the forms names is the count."""
        raw = self._raw.get((lang, key))
        if raw is None:
            found = _lookup(self.texts.get(lang, {}), key)
            if found is None:
                found = _lookup(self.texts[DEFAULT_LANGUAGE], key)
            if not isinstance(found, str) and not is_plural(found):
                raise KeyError(f"no text for {key!r}")
            raw = self._raw[(lang, key)] = found
        if isinstance(raw, str):
            template = _template(raw)
            if count is not None:
                values["count"] = count
        else:
            if count is None:
                count = _implied_count(key, raw, values)
            template = _template(raw.get(plural_category(lang, count)) or raw["other"])
            values["count"] = self.number(lang, count)
        if "greeting" in template.names and "greeting" not in values:
            values["greeting"] = self.greeting(lang)
        return template.render(values) if values else template.source

    def greeting(self, lang: str, local_hour: int | None = None) -> str:
        """The greeting for the person's local hour: good morning, afternoon or evening; one
        that fits any hour ("Hi") at night or when the hour is not known."""
        part = "any"
        if local_hour is not None:
            part = next(name for name, until in GREETING_HOURS if local_hour % 24 < until)
        return self.text(lang, f"greetings.{part}")

    def number(self, lang: str, value: int | str) -> str:
        """A count as the language writes it: 1,000 / 1.000 (text passes through)."""
        return value if isinstance(value, str) else format_decimal(value, locale=_locale(lang))

    def date(self, lang: str, value: date | str | None) -> str:
        """A date as people write it in their language: 15 Dec 2026 / 15 dec 2026."""
        if value is None:
            return self.text(lang, "common.no_date")
        day = date.fromisoformat(value) if isinstance(value, str) else value
        months = self.text(lang, "common.months").split()
        return f"{day.day} {months[day.month - 1]} {day.year}"

    def question(self, question_id: str) -> Question:
        """A question of the reflection bank or of another exercise, by id (StopIteration
        when there is none)."""
        return next(q for q in (*self.questions, *self.exercise_questions) if q.id == question_id)

    def idea(self, idea_id: str) -> Idea | None:
        return next((i for i in self.ideas if i.id == idea_id), None)

    def _words(self) -> dict[str, frozenset[str]]:
        words: dict[str, set[str]] = {}
        for lang in LANGUAGES:
            for word, phrases in self.texts[lang].get("words", {}).items():
                words.setdefault(word, set()).update(normalise_keyword(p) for p in phrases)
        return {word: frozenset(phrases) for word, phrases in words.items()}

    def _intents(self) -> dict[str, str]:
        """Phrase -> intent name, both languages: people switch languages mid-sentence."""
        intents: dict[str, str] = {}
        for lang in LANGUAGES:
            for intent, phrases in self.texts[lang].get("intents", {}).items():
                for phrase in phrases:
                    intents[normalise_keyword(phrase)] = intent
        return intents


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it (ten times faster: the content is read
at every start and every scheduler tick), else the pure-Python one; both load the same."""


def _load_language(directory: Path, lang: str) -> dict[str, Any]:
    """``{lang}.yaml`` with every ``{lang}/*.yaml`` (one file per feature) merged into it; a
    text defined in two files is an error naming the key, never a silent override."""
    texts = _load(directory / f"{lang}.yaml")
    for part in sorted((directory / lang).glob("*.yaml")):
        _merge(texts, _load(part), part, ())
    return texts


def _merge(
    into: dict[str, Any], extra: Mapping[str, Any], source: Path, at: tuple[str, ...]
) -> None:
    for key, value in extra.items():
        here = (*at, str(key))
        if key not in into:
            into[key] = value
        elif isinstance(into[key], dict) and isinstance(value, dict) and not is_plural(value):
            _merge(into[key], value, source, here)
        else:
            raise ValueError(f"{source}: {'.'.join(here)} is already defined")


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_SAFE_LOADER)
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping")
    return data


def is_plural(node: Any) -> bool:
    """A mapping of plural forms: CLDR categories only, ``other`` among them, all texts."""
    return (
        isinstance(node, dict)
        and "other" in node
        and set(node) <= PLURAL_CATEGORIES
        and all(isinstance(form, str) for form in node.values())
    )


def plural_category(lang: str, count: int | str) -> str:
    """Babel's plural category of ``count`` in ``lang`` (text that is no number: ``other``)."""
    if isinstance(count, str):
        try:
            count = int(count.strip())
        except ValueError:
            return "other"
    return str(_locale(lang).plural_form(count))


@cache
def _locale(lang: str) -> Locale:
    return Locale.parse(lang)


def _implied_count(key: str, forms: Mapping[str, str], values: dict[str, Any]) -> int | str:
    named = set().union(*(_template(form).names for form in forms.values()))
    unnamed = [value for name, value in values.items() if name not in named]
    if len(unnamed) != 1:
        raise KeyError(f"{key!r} has plural forms: pass count=")
    count: int | str = unnamed[0]
    return count


class _Template:
    """A parsed text: rendered like ``str.format``, except that a value ending a sentence of
    its own takes the place of the full stop (or a second ? or !) that follows it."""

    _formatter = string.Formatter()

    def __init__(self, source: str) -> None:
        self.source = source
        self.pieces = tuple(self._formatter.parse(source))
        self.names = frozenset(
            field.partition(".")[0].partition("[")[0] for _, field, _, _ in self.pieces if field
        )

    def render(self, values: Mapping[str, Any]) -> str:
        out: list[str] = []
        previous = ""
        for literal, field, spec, conversion in self.pieces:
            out.append(_after_value(previous, literal) if previous else literal)
            previous = ""
            if field is None:
                continue
            value, _ = self._formatter.get_field(field, (), values)
            if conversion:
                value = self._formatter.convert_field(value, conversion)
            if spec and "{" in spec:
                spec = self._formatter.vformat(spec, (), values)
            previous = self._formatter.format_field(value, spec or "")
            out.append(previous)
        return "".join(out)


@cache
def _template(source: str) -> _Template:
    return _Template(source)


def _after_value(value: str, literal: str) -> str:
    """``literal`` as it may follow ``value``: without a full stop when the value ended its
    own sentence, without a second ? or ! after one (closing quotes in between stay)."""
    end = value.rstrip(CLOSING_QUOTES)[-1:]
    if not end or end not in SENTENCE_ENDS:
        return literal
    at = len(literal) - len(literal.lstrip(CLOSING_QUOTES))
    mark = literal[at : at + 1]
    if mark == "." or (mark in ("?", "!") and end in "?!"):
        return literal[:at] + literal[at + 1 :]
    return literal


def _lookup(tree: dict[str, Any], key: str) -> Any:
    node: Any = tree
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


@cache
def load_content() -> Content:
    return Content()
