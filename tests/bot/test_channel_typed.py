"""What a typed answer answered (``bot/channels/typed.py``), and what the Slack long-answer modal
refuses (``listeners/modals.py``): both read answers as the dialog runtime does."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bot.channels.slack.blocks import modal_limits
from bot.channels.slack.listeners.modals import refusal
from bot.channels.typed import asks_again, typed_answer
from dialogs.engine.content import load_content
from dialogs.engine.replies import (
    Choice,
    ChoicePrompt,
    ConfirmPrompt,
    Say,
    ScalePrompt,
    TextPrompt,
)

REF: dict[str, Any] = {"session_id": 7, "step": "ask", "seq": 3}
TODAY = date(2026, 11, 24)
LANGUAGE = ChoicePrompt(
    text="Which language?",
    retry="r",
    choices=(Choice("English", "en"), Choice("Nederlands", "nl")),
    **REF,
)


@pytest.mark.parametrize(
    ("prompt", "typed", "label"),
    [
        (LANGUAGE, "2", "Nederlands"),
        (LANGUAGE, "english", "English"),
        (LANGUAGE, "menu", None),  # an intent word, not an option: something else started
        (LANGUAGE, "klingon", None),
        (ConfirmPrompt(text="Right?", retry="r", **REF), "ja", "Yes"),
        (ConfirmPrompt(text="Right?", retry="r", **REF), "no", "No"),
        (ScalePrompt(text="Energy?", retry="r", **REF), "4", "4"),
        (
            TextPrompt(text="What?", retry="r", **REF),
            "  Shadow   a colleague ",
            "Shadow a colleague",
        ),
        (TextPrompt(text="What?", retry="r", **REF), "plan", None),
        (TextPrompt(text="What?", retry="r", skip_label="Skip", **REF), "skip", "Skip"),
    ],
)
def test_a_typed_answer_is_read_as_the_runtime_reads_it(prompt, typed, label) -> None:
    assert typed_answer(prompt, typed, load_content(), today=TODAY) == label


def test_a_question_asked_again_is_still_open() -> None:
    assert asks_again(LANGUAGE, [Say("Here's what you can say"), LANGUAGE])
    assert not asks_again(
        LANGUAGE, [Say("Noted."), ScalePrompt(text="E?", retry="r", **REF | {"seq": 4})]
    )


def test_the_modal_refuses_what_the_question_would() -> None:
    content = load_content()
    assert refusal("   ", content, "en", most=1000, skippable=False) == (
        "Write your answer first, or close this window."
    )
    assert refusal("x" * 1000, content, "en", most=1000, skippable=False) is None
    too_long = refusal("x" * 1495, content, "nl", most=1000, skippable=False)
    assert too_long is not None and "1.000" in too_long and "1.495" in too_long
    assert refusal("overslaan", content, "nl", most=1000, skippable=False) == (
        "Deze sla ik liever niet over: een paar woorden is genoeg."
    )
    assert refusal("skip", content, "en", most=1000, skippable=True) is None


def test_the_modal_button_carries_the_question_s_limits() -> None:
    assert modal_limits('{"max": 500, "skip": true}') == (500, True)
    assert modal_limits("long") == (1000, False)  # a button from before the limits travelled
