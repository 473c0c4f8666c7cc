"""Every card the Teams channel can send is a valid Adaptive Card 1.5 in a valid activity, and
matches its golden file (``UPDATE_GOLDEN=1`` rewrites them; review the diff). Cards are rendered
for a person (``USER``), so a card that asks something carries its ``refresh``."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.channels.teams.cards import (
    MAX_ACTIVITY_BYTES,
    activities,
    activity_size,
    escape,
    settled,
    settled_card,
    text_blocks,
)
from dialogs.engine.content import load_content
from dialogs.engine.replies import ConfirmPrompt, Prompt, Say
from tests.bot.hostile import HOSTILE, assert_no_link_in_card
from tests.bot.test_slack_blocks import CASES, REF
from tests.schema_validators import activity_errors, card_errors

GOLDEN = Path(__file__).parent / "golden" / "teams"
USER = "29:u"
"""The Teams id of the person the cards go to."""
SENDER = {
    "from": {"id": "28:bot", "name": "Regie"},
    "recipient": {"id": "29:u", "name": "U"},
    "conversation": {"id": "a:c"},
    "channelId": "msteams",
}


def t(key: str, **values: object) -> str:
    return load_content().text("en", key, **values)


@dataclass(frozen=True)
class DestructiveConfirm(ConfirmPrompt):
    """What ``ConfirmPrompt(destructive=True)`` is once dialogs/engine has the flag."""

    destructive: bool = True


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_prompt_kind_is_a_valid_card_and_activity(name: str) -> None:
    sent = activities(CASES[name], t, user=USER)
    assert sent
    for activity in sent:
        assert activity_errors(activity | SENDER) == []
        if activity.get("attachments"):  # a card alone, with its notification preview
            assert "text" not in activity and activity["summary"].strip()
        else:
            assert activity["text"].strip() and activity["textFormat"] == "plain"
        for attachment in activity.get("attachments", []):
            assert attachment["content"]["version"] == "1.5"
            assert card_errors(attachment["content"]) == []
            assert "positive" not in json.dumps(attachment["content"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_cards_match_the_golden_files(name: str) -> None:
    payload = activities(CASES[name], t, user=USER)
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert payload == json.loads(path.read_text(encoding="utf-8"))


def test_a_destructive_yes_has_the_destructive_style() -> None:
    prompt = DestructiveConfirm(text="Delete everything?", retry="r", **REF)
    [activity] = activities([prompt], t)
    actions = activity["attachments"][0]["content"]["actions"]
    assert [(a["data"]["value"], a.get("style")) for a in actions] == [
        ("yes", "destructive"),
        ("no", None),
    ]
    assert card_errors(activity["attachments"][0]["content"]) == []


def test_settled_and_closed_cards_are_valid_and_keep_what_was_said() -> None:
    assert card_errors(settled_card("Which language?", "✓ English")) == []
    [activity] = activities(CASES["say_then_prompt"], t)
    card = settled(activity["attachments"][0]["content"], "✓ 4")
    assert card_errors(card) == [] and "actions" not in card
    assert [b["text"] for b in card["body"]] == ["Noted.", "Energy?", "✓ 4"]


def test_lines_paragraphs_and_lists_keep_their_shape() -> None:
    text = "Intro line\nsecond line\n• one *x*\n• two\n\nAfter a blank line"
    blocks = text_blocks(text, weight="Bolder")
    assert [b["text"] for b in blocks] == [
        "Intro line\n\nsecond line",
        "- one \\*x\\*\r- two",
        "After a blank line",
    ]
    assert [b.get("spacing") for b in blocks] == [None, "Small", None]
    assert all(b["weight"] == "Bolder" for b in blocks)


def test_one_line_with_nothing_to_tap_is_plain_text_and_more_is_a_card() -> None:
    [plain] = activities([Say("Noted.")], t)
    assert plain == {"type": "message", "text": "Noted.", "textFormat": "plain"}
    [card] = activities([Say("Noted.\nSee you soon.")], t)
    assert card["attachments"] and "text" not in card


def test_long_texts_are_split_into_several_messages() -> None:
    sent = activities([Say("x" * 45_000)], t)
    assert len(sent) == 4
    shown = "".join(
        a.get("text") or a["attachments"][0]["content"]["body"][0]["text"] for a in sent
    )
    assert shown == "x" * 45_000  # split, nothing cut off
    assert all(activity_size(a) <= MAX_ACTIVITY_BYTES for a in sent)


def test_typed_markdown_and_html_stay_text() -> None:
    assert escape("**big** [click](https://evil.example) _x_\n- item\n3. three\n# title") == (
        "\\*\\*big\\*\\* \\[click\\](https://evil.example) \\_x\\_\n\\- item\n3\\. three\n\\# title"
    )
    assert escape('<a href="https://evil.example">tap</a>') == (
        '\\<a href="https://evil.example"\\>tap\\</a\\>'
    )
    assert (
        escape("Plain text, with punctuation! (and 1/3)")
        == "Plain text, with punctuation! (and 1/3)"
    )
    [activity] = activities([Say(f"What Kim shared:\n• {HOSTILE}", section=True)], t)
    assert_no_link_in_card(activity["attachments"][0]["content"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_button_is_a_universal_action_with_the_submit_older_clients_press(name: str) -> None:
    """Issue 15, item 7: ``Action.Execute`` (1.4+) with the same ``Action.Submit`` as its
    fallback, so both reach the same turn; a card that asks something refreshes for its
    person, and only when it is rendered for someone."""
    for activity in activities(CASES[name], t, user=USER):
        for attachment in activity.get("attachments", []):
            content = attachment["content"]
            for button in content.get("actions", []):
                assert button["type"] == "Action.Execute" and button["verb"] in ("answer", "start")
                old = button["fallback"]
                assert old["type"] == "Action.Submit"
                assert {
                    k: v for k, v in button.items() if k not in ("type", "verb", "fallback")
                } == {k: v for k, v in old.items() if k != "type"}
            if "refresh" in content:
                assert content["refresh"]["userIds"] == [USER]
                assert (
                    content["refresh"]["action"]["data"]["regie"]
                    == (content["actions"][0]["data"]["regie"])
                )
                assert "refresh" not in settled(content, "✓ x")
    asking = [r for r in CASES[name] if isinstance(r, Prompt)]
    for activity in activities(CASES[name], t):  # rendered for no one: nothing to refresh
        for attachment in activity.get("attachments", []):
            assert "refresh" not in attachment["content"]
    if asking:
        [*_, last] = activities(CASES[name], t, user=USER)
        assert "refresh" in last["attachments"][0]["content"]
