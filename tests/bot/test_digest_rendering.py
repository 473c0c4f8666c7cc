"""The digest in the three renderings (Slack Block Kit, a Teams Adaptive Card, console text):
golden files, hostile text escaped, valid against the official schemas, long digests split."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.channels.console import render_text
from bot.channels.slack.blocks import messages
from bot.channels.teams.cards import activities
from dialogs.engine.content import load_content
from dialogs.nudges.digest import Digest, as_replies
from storage.models import Person
from tests.bot.hostile import assert_no_link_in_blocks, assert_no_link_in_card
from tests.schema_validators import activity_errors, card_errors

GOLDEN = Path(__file__).parent / "golden" / "digest"
HOSTILE = "<!channel> <https://evil.example|click> @here [x](https://evil.example) **bold**"
SENDER = {
    "from": {"id": "28:bot", "name": "Regie"},
    "recipient": {"id": "29:u", "name": "U"},
    "conversation": {"id": "a:c"},
    "channelId": "msteams",
}


def t(key: str, **values: object) -> str:
    return load_content().text("en", key, **values)


def sample() -> list:
    digest = Digest(
        Person(email="bea@example.com", name="Bea Baas", language="en"),
        sections=[
            f"What Kim Jones has shared:\n• Experiment: {HOSTILE} (done)",
            "What Sam has shared:\n• Plan: x",
        ],
        team="Across the team (6 people): 4 worked on an experiment and 5 did a check-in.",
        starters=["Ask Kim what it taught them.", "What gave you energy at work this month?"],
    )
    return as_replies(load_content(), digest)


def rendered() -> dict[str, object]:
    replies = sample()
    return {
        "slack": [{"text": m.text, "blocks": m.blocks} for m in messages(replies, t)],
        "teams": activities(replies, t),
        "console": "\n\n".join(render_text(r) for r in replies),
    }


@pytest.mark.parametrize("channel", ["slack", "teams", "console"])
def test_digest_renderings_match_the_golden_files(channel: str) -> None:
    payload = rendered()[channel]
    path = GOLDEN / f"{channel}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert payload == json.loads(path.read_text(encoding="utf-8"))


def test_hostile_text_is_inert_everywhere_and_the_card_is_valid() -> None:
    out = rendered()
    slack = json.dumps(out["slack"])
    assert "<!channel>" not in slack and "<https://evil" not in slack
    for message in out["slack"]:
        assert_no_link_in_blocks(message["blocks"])
    [activity] = out["teams"]
    assert activity_errors(activity | SENDER) == []
    card = activity["attachments"][0]["content"]
    assert card_errors(card) == []
    assert_no_link_in_card(card)
    assert "\\*\\*bold\\*\\*" in card["body"][2]["text"]


def test_the_digest_card_keeps_its_line_structure() -> None:
    """Each section set apart, its heading on a line of its own, its items a real list."""
    [activity] = rendered()["teams"]
    body = activity["attachments"][0]["content"]["body"]
    texts = [block["text"] for block in body]
    assert texts[1:3] == ["What Kim Jones has shared:", texts[2]]
    assert texts[2].startswith("- Experiment: ")
    assert "- Ask Kim what it taught them.\r- What gave you energy at work this month?" in texts
    assert [b.get("separator", False) for b in body].count(True) == 4


def test_a_long_digest_is_split_not_truncated() -> None:
    digest = Digest(
        Person(email="bea@example.com", name="Bea Baas", language="en"),
        sections=[
            f"What Person {n} has shared:\n" + "• Experiment: something long\n" * 40
            for n in range(60)
        ],
        starters=["Ask."],
    )
    replies = as_replies(load_content(), digest)
    slack = messages(replies, t)
    teams = activities(replies, t)
    assert len(slack) > 1 and all(len(m.blocks) <= 50 for m in slack)
    assert len(teams) > 1
    assert sum(json.dumps(a).count("What Person") for a in teams) >= 60
    assert all(card_errors(a["attachments"][0]["content"]) == [] for a in teams)
