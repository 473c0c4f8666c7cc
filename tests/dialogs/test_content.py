"""The content files: both languages complete, placeholders matching, intents unambiguous."""

from __future__ import annotations

import string
from typing import Any

from dialogs.engine.content import LANGUAGES, load_content
from dialogs.engine.runtime import BUTTON_ONLY_INTENTS, DIALOG_INTENTS
from dialogs.engine.text import normalise_keyword
from dialogs.registry import DIALOGS


def leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            found |= leaves(value, path + ".")
        else:
            found[path] = value
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_dutch_and_english_have_the_same_texts_and_placeholders() -> None:
    content = load_content()
    en, nl = (leaves(content.texts[lang]) for lang in ("en", "nl"))
    assert set(en) == set(nl)
    for key, value in en.items():
        if isinstance(value, str):
            assert placeholders(value) == placeholders(nl[key]), key
            assert value.strip() and nl[key].strip(), key


def test_every_question_and_idea_exists_in_both_languages() -> None:
    content = load_content()
    for item in (*content.questions, *content.ideas):
        for lang in LANGUAGES:
            assert item.text[lang].strip(), (item.id, lang)
    assert all(
        len(idea.text[lang]) <= 75 for idea in content.ideas for lang in LANGUAGES
    )  # button size


def test_intents_are_unambiguous_and_all_handled() -> None:
    content = load_content()
    owners: dict[str, str] = {}
    for lang in LANGUAGES:
        for intent, phrases in content.texts[lang]["intents"].items():
            for phrase in phrases:
                key = normalise_keyword(phrase)
                assert owners.setdefault(key, intent) == intent, (phrase, intent, owners[key])
    handled = (set(DIALOG_INTENTS) - BUTTON_ONLY_INTENTS) | {"help", "cancel", "resume"}
    assert set(content.intents.values()) == handled
    assert {start.dialog_id for start in DIALOG_INTENTS.values()} <= set(DIALOGS)


def test_no_answer_word_is_also_an_intent() -> None:
    content = load_content()
    for word, phrases in content.words.items():
        clash = phrases & set(content.intents)
        assert not clash, (word, clash)


def test_every_dialog_title_exists() -> None:
    content = load_content()
    for dialog in DIALOGS.values():
        for lang in LANGUAGES:
            assert content.text(lang, dialog.title)
