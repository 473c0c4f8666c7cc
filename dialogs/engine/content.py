"""Everything the bot says, loaded from the YAML files in ``dialogs/content``.

``en.yaml`` and ``nl.yaml`` hold the texts (same keys in both; a test checks), the words the bot
understands (yes/no/skip, intents) and labels. ``questions.yaml`` is the reflection question
bank, ``ideas.yaml`` the experiment idea list, ``prompts.yaml`` the instructions of the optional
AI features.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

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
            lang: _load(directory / f"{lang}.yaml") for lang in LANGUAGES
        }
        bank = _load(directory / "questions.yaml")["questions"]
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
        self.words = self._words()
        self.intents = self._intents()
        self._templates: dict[tuple[str, str], str] = {}

    def text(self, lang: str, key: str, **values: Any) -> str:
        """The text for ``key`` (dotted path) in ``lang``, falling back to English."""
        found = self._templates.get((lang, key))
        if found is None:
            raw = _lookup(self.texts.get(lang, {}), key)
            if raw is None:
                raw = _lookup(self.texts[DEFAULT_LANGUAGE], key)
            if not isinstance(raw, str):
                raise KeyError(f"no text for {key!r}")
            found = self._templates[(lang, key)] = raw
        return found.format(**values) if values else found

    def date(self, lang: str, value: date | str | None) -> str:
        """A date as people write it in their language: 15 Dec 2026 / 15 dec 2026."""
        if value is None:
            return self.text(lang, "common.no_date")
        day = date.fromisoformat(value) if isinstance(value, str) else value
        months = self.text(lang, "common.months").split()
        return f"{day.day} {months[day.month - 1]} {day.year}"

    def question(self, question_id: str) -> Question:
        return next(q for q in self.questions if q.id == question_id)

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


def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a mapping")
    return data


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
