"""Every card the Teams channel can send is a valid Adaptive Card 1.5 in a valid activity."""

from __future__ import annotations

import pytest

from bot.channels.teams.cards import (
    MAX_ACTIVITY_BYTES,
    activities,
    activity_size,
    escape,
    settled_card,
)
from dialogs.engine.content import load_content
from dialogs.engine.replies import Say
from tests.bot.test_slack_blocks import CASES
from tests.schema_validators import activity_errors, card_errors

SENDER = {
    "from": {"id": "28:bot", "name": "Regie"},
    "recipient": {"id": "29:u", "name": "U"},
    "conversation": {"id": "a:c"},
    "channelId": "msteams",
}


def t(key: str, **values: object) -> str:
    return load_content().text("en", key, **values)


@pytest.mark.parametrize("name", sorted(CASES))
def test_every_prompt_kind_is_a_valid_card_and_activity(name: str) -> None:
    sent = activities(CASES[name], t)
    assert sent
    for activity in sent:
        assert activity["text"].strip()
        assert activity_errors(activity | SENDER) == []
        for attachment in activity.get("attachments", []):
            assert attachment["content"]["version"] == "1.5"
            assert card_errors(attachment["content"]) == []


def test_settled_and_closed_cards_are_valid() -> None:
    assert card_errors(settled_card("Which language?", "✓ English")) == []


def test_long_texts_are_split_into_several_messages() -> None:
    sent = activities([Say("x" * 45_000)], t)
    assert len(sent) == 4
    assert "".join(a["text"] for a in sent) == "x" * 45_000  # split, nothing cut off
    assert all(activity_size(a) <= MAX_ACTIVITY_BYTES for a in sent)


def test_typed_markdown_stays_text() -> None:
    assert escape("**big** [click](https://evil.example) _x_\n- item\n3. three") == (
        "\\*\\*big\\*\\* \\[click\\](https://evil.example) \\_x\\_\n\\- item\n3\\. three"
    )
    assert (
        escape("Plain text, with punctuation! (and 1/3)")
        == "Plain text, with punctuation! (and 1/3)"
    )
