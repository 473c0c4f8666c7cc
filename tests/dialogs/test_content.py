"""The content files: both languages complete, placeholders matching, intents unambiguous; and
the lint of how texts read: counts through plural forms, one quoting style per language, no
doubled punctuation after a placeholder whatever the value ends with."""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from babel import Locale

from dialogs.engine.content import LANGUAGES, Content, Idea, Question, is_plural, load_content
from dialogs.engine.runtime import BUTTON_ONLY_INTENTS, DIALOG_INTENTS
from dialogs.engine.text import normalise_keyword
from dialogs.registry import DIALOGS

NOT_TEXTS = ("words.", "intents.", "follow_up.unsure_words")
"""Words the bot understands, not texts it says."""


def leaves(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Every text by dotted key; a text with plural forms is one leaf (its forms a dict)."""
    found: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not is_plural(value):
            found |= leaves(value, path + ".")
        else:
            found[path] = value
    return found


def texts(lang: str) -> dict[str, str | dict[str, str]]:
    """What the bot says in ``lang``: plain texts and texts with plural forms."""
    return {
        key: value
        for key, value in leaves(load_content().texts[lang]).items()
        if not key.startswith(NOT_TEXTS) and (isinstance(value, str) or is_plural(value))
    }


def forms(value: str | dict[str, str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value.values())


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def all_placeholders(value: str | dict[str, str]) -> set[str]:
    return set().union(*(placeholders(form) for form in forms(value)))


def every_text_rendered(values: dict[str, Any], counts: tuple[int, ...]) -> Iterator[tuple]:
    """(lang, key, rendered) for every text, each placeholder given ``values``'s value for
    it (or the value under ``"*"``), each plural text once per count."""
    content = load_content()
    for lang in LANGUAGES:
        for key, value in texts(lang).items():
            names = all_placeholders(value) - {"count"}
            given = {name: values.get(name, values["*"]) for name in names}
            if isinstance(value, str):
                yield lang, key, content.text(lang, key, **given)
            else:
                for n in counts:
                    yield lang, key, content.text(lang, key, count=n, **given)


# -- both languages -----------------------------------------------------------------------


def test_dutch_and_english_have_the_same_texts_and_placeholders() -> None:
    content = load_content()
    en, nl = (leaves(content.texts[lang]) for lang in ("en", "nl"))
    assert set(en) == set(nl)
    for key, value in en.items():
        if isinstance(value, str) or is_plural(value):
            assert all_placeholders(value) == all_placeholders(nl[key]), key
            assert all(form.strip() for form in (*forms(value), *forms(nl[key]))), key


def test_every_question_and_idea_exists_in_both_languages() -> None:
    content = load_content()
    items: list[Question | Idea] = [*content.questions, *content.exercise_questions]
    for item in [*items, *content.ideas]:
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


# -- counts: plural forms -----------------------------------------------------------------

COUNTED = {
    "en": (
        "people persons places steps items messages characters entries things questions times "
        "days weeks months experiments reflections answers check-ins workshops skills talents "
        "sign-ups"
    ),
    "nl": (
        "mensen personen plekken stappen items berichten tekens punten dingen vragen dagen "
        "weken maanden experimenten reflecties antwoorden check-ins workshops vaardigheden "
        "talenten aanmeldingen"
    ),
}
"""Plural nouns that follow a number in our texts: "1" before one of them is a slip."""


def one_before_a_plural(lang: str) -> re.Pattern[str]:
    nouns = "|".join(re.escape(n) for n in COUNTED[lang].split())
    return re.compile(rf"(?<![\d.,/<])\b1 (?:[\w-]+ )?(?:{nouns})\b", re.IGNORECASE)


def test_the_plural_forms_are_the_languages_own() -> None:
    for lang in LANGUAGES:
        categories = {"other", *Locale.parse(lang).plural_form.tags}
        for key, value in texts(lang).items():
            if isinstance(value, dict):
                assert set(value) == categories, (lang, key, set(value))
                assert "count" in placeholders(value["other"]), (lang, key)


def test_every_count_goes_through_plural_forms() -> None:
    """A plain text never counts with ``{count}``, and no text, whatever its numbers, reads
    "1 places" / "1 plekken": a number before a noun is a text with plural forms."""
    for lang in LANGUAGES:
        for key, value in texts(lang).items():
            if isinstance(value, str):
                assert "count" not in placeholders(value), (lang, key)
    for lang, key, text in every_text_rendered({"*": "1"}, counts=(1,)):
        found = one_before_a_plural(lang).search(text)
        assert found is None, (lang, key, found.group(0) if found else "", text)


@pytest.mark.parametrize(
    ("lang", "count", "expected"),
    [
        ("en", 1, "1 place"),
        ("en", 0, "0 places"),
        ("en", 12, "12 places"),
        ("nl", 1, "1 plek"),
        ("nl", 2, "2 plekken"),
        ("nl", 1000, "1.000 plekken"),
        ("en", 1000, "1,000 places"),
    ],
)
def test_the_count_picks_the_form_and_is_written_the_languages_way(
    lang: str, count: int, expected: str
) -> None:
    assert load_content().text(lang, "campaigns.places", count=count) == expected


def test_a_caller_passing_the_number_under_its_own_name_is_understood() -> None:
    """The one value no form names is the count: callers written before a text had plural
    forms keep working."""
    content = load_content()
    assert content.text("nl", "campaigns.places", n=1) == "1 plek"
    summary = content.text(
        "en", "privacy.summary", default="private", shared=0, total=1, aggregates="Yes", nudges="on"
    )
    assert "Items shared with your manager: 0 of 1" in summary
    with pytest.raises(KeyError, match="plural"):
        content.text("en", "campaigns.places")


def test_plural_forms_read_right_in_both_languages() -> None:
    content = load_content()
    assert content.text("en", "profile.added", count=2) == "Added 2 entries to your profile."
    assert content.text("en", "profile.added", count=1) == "Added one entry to your profile."
    assert content.text("nl", "profile.added", count=1) == "Eén punt toegevoegd aan je profiel."
    assert content.text("nl", "reflection.intro", count=3).startswith(
        "Even een momentje voor jezelf. 3 korte vragen."
    )
    assert "1 message waits" in content.text("en", "campaigns.hr.paused", count=1)
    assert "1 bericht wacht" in content.text("nl", "campaigns.hr.paused", count=1)
    assert "2.000 tekens" in content.text("nl", "runtime.too_long", count=2000)


# -- quotes -------------------------------------------------------------------------------

STRAIGHT = "'\""
CURLY = "‘’“”"


def test_quotes_are_consistent_per_language() -> None:
    """English quotes and apostrophes are straight; Dutch ones curly: ‘woord’, “citaat”,
    zo’n. The question bank and the ideas count too."""
    content = load_content()
    written: dict[str, list[tuple[str, str]]] = {lang: [] for lang in LANGUAGES}
    for lang in LANGUAGES:
        for key, value in texts(lang).items():
            written[lang] += [(key, form) for form in forms(value)]
        items: list[Question | Idea] = [*content.questions, *content.exercise_questions]
        for item in [*items, *content.ideas]:
            written[lang].append((item.id, item.text[lang]))
    for key, text in written["en"]:
        assert not set(text) & set(CURLY), ("en", key, text)
    for key, text in written["nl"]:
        assert not set(text) & set(STRAIGHT), ("nl", key, text)
        assert text.count("“") == text.count("”"), ("nl", key, text)
        for opened in re.finditer("‘", text):
            assert "’" in text[opened.end() :], ("nl", key, text)


# -- punctuation after placeholders -------------------------------------------------------

DOUBLED = re.compile(r"[.?!…][’”'\"»]*\.|[?!][’”'\"»]*[?!]")


@pytest.mark.parametrize("value", ["Sam", "Why not?", "Learn Excel.", "Go for it!", "Next…"])
def test_no_doubled_punctuation_after_a_placeholder(value: str) -> None:
    """Every text, each placeholder filled with a value ending in ?, ., ! or … (a title
    someone typed): never "‘Why not?’." or "done..", in either language."""
    for lang, key, text in every_text_rendered({"*": value}, counts=(1, 2)):
        found = DOUBLED.search(text)
        assert found is None, (lang, key, repr(text))


def test_a_value_ending_its_own_sentence_stands_in_for_the_full_stop() -> None:
    content = load_content()
    assert content.text("en", "plan.added", title="Learn to say no?") == "Added: 'Learn to say no?'"
    assert content.text("nl", "plan.added", title="Leren nee zeggen?") == (
        "Toegevoegd: ‘Leren nee zeggen?’"
    )
    assert content.text("en", "experiment.proposed", title="Why not?").endswith("'Why not?'")
    assert content.text("en", "plan.added", title="Learn Excel") == "Added: 'Learn Excel'."
    assert content.text("en", "experiment.ask_why", title="Why not?").startswith(
        "Why 'Why not?' What"
    )  # one question mark is enough
    assert content.text("en", "experiment.proposed", title="Fix it.").endswith("'Fix it.'?")


# -- greetings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "en", "nl"),
    [
        (None, "Hi", "Hoi"),
        (3, "Hi", "Hoi"),
        (5, "Good morning", "Goedemorgen"),
        (11, "Good morning", "Goedemorgen"),
        (12, "Good afternoon", "Goedemiddag"),
        (17, "Good afternoon", "Goedemiddag"),
        (18, "Good evening", "Goedenavond"),
        (23, "Good evening", "Goedenavond"),
    ],
)
def test_the_greeting_fits_the_hour(hour: int | None, en: str, nl: str) -> None:
    content = load_content()
    assert (content.greeting("en", hour), content.greeting("nl", hour)) == (en, nl)


def test_a_text_that_greets_without_an_hour_greets_for_any_hour() -> None:
    content = load_content()
    assert content.text("nl", "nudges.checkin", name="Noor").startswith("Hoi Noor!")
    assert content.text("en", "digest.intro", name="Bea").startswith("Hi Bea!")
    morning = content.greeting("nl", 9)
    assert content.text("nl", "nudges.checkin", name="Noor", greeting=morning).startswith(
        "Goedemorgen Noor!"
    )


def test_no_text_says_good_morning_outside_the_greetings() -> None:
    """ "Goedemorgen" in a text would be said at any hour: greetings go through {greeting}."""
    for lang in LANGUAGES:
        for key, value in texts(lang).items():
            if key.startswith("greetings."):
                continue
            for form in forms(value):
                assert not re.search(
                    r"good (morning|afternoon|evening)|goede(morgen|middag|navond)", form, re.I
                ), (lang, key)


def test_exercise_questions_are_found_but_never_asked_in_a_reflection() -> None:
    content = load_content()
    assert content.question("field-self").text["nl"].startswith("Know, Flow, Glow of Grow")
    assert not {q.id for q in content.exercise_questions} & {q.id for q in content.questions}


def test_content_is_loaded_once_per_process() -> None:
    assert load_content() is load_content()
    assert isinstance(load_content(), Content)


def test_feature_files_merge_into_their_language_and_a_key_defined_twice_is_an_error(
    tmp_path: Path,
) -> None:
    source = Path(__file__).parents[2] / "dialogs" / "content"
    for name in ("en.yaml", "nl.yaml", "questions.yaml", "ideas.yaml", "prompts.yaml"):
        (tmp_path / name).write_text((source / name).read_text(encoding="utf-8"), encoding="utf-8")
    for lang in ("en", "nl"):
        (tmp_path / lang).mkdir()
        (tmp_path / lang / "extra.yaml").write_text(
            f"extra:\n  hello: 'hi {lang}'\ncommon:\n  fresh: 'new {lang}'\n", encoding="utf-8"
        )
    content = Content(tmp_path)
    assert content.text("nl", "extra.hello") == "hi nl"
    assert content.text("en", "common.fresh") == "new en"
    assert content.text("en", "common.yes") == "Yes"

    (tmp_path / "en" / "clash.yaml").write_text("common:\n  'yes': 'again'\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"common\.yes is already defined"):
        Content(tmp_path)
