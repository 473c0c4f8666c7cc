"""Golden files for the Block Kit of every prompt kind, and the escaping rules."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bot.channels.slack.blocks import decode_ref, escape, home_view, messages, settle
from dialogs.engine.content import load_content
from dialogs.engine.replies import (
    Choice,
    ChoicePrompt,
    ConfirmPrompt,
    DatePrompt,
    Reply,
    Say,
    ScalePrompt,
    TextPrompt,
)
from dialogs.flows.home import Summary

GOLDEN = Path(__file__).parent / "golden" / "slack"
REF = {"session_id": 7, "step": "ask", "seq": 3}


def t(key: str, **values: object) -> str:
    return load_content().text("en", key, **values)


CASES: dict[str, list[Reply]] = {
    "say": [Say("Hello <@U1> & *you*")],
    "text": [TextPrompt(text="What will you try?", retry="r", **REF)],
    "text_long_skippable": [
        TextPrompt(text="What did it teach you?", retry="r", skip_label="Skip", long=True, **REF)
    ],
    "choice_buttons": [
        ChoicePrompt(
            text="Pick one", retry="r", choices=(Choice("Yes, <b>", "a"), Choice("No", "b")), **REF
        )
    ],
    "choice_menu": [
        ChoicePrompt(
            text="Which idea?",
            retry="r",
            choices=tuple(Choice(f"Idea {n}", f"i{n}") for n in range(8)),
            **REF,
        )
    ],
    "scale": [ScalePrompt(text="Energy?", retry="r", low_label="low", high_label="high", **REF)],
    "confirm": [ConfirmPrompt(text="Sure?", retry="r", yes_label="Yes", no_label="No", **REF)],
    "date": [DatePrompt(text="When?", retry="r", skip_label="Not sure yet", **REF)],
    "say_then_prompt": [Say("Noted."), ScalePrompt(text="Energy?", retry="r", **REF)],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_block_kit_matches_the_golden_file(name: str) -> None:
    payload = [{"text": m.text, "blocks": m.blocks} for m in messages(CASES[name], t)]
    path = GOLDEN / f"{name}.json"
    if os.environ.get("UPDATE_GOLDEN"):  # UPDATE_GOLDEN=1 make test, then review the diff
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert payload == json.loads(path.read_text(encoding="utf-8"))
    for message in payload:
        assert message["text"].strip()
        assert len(message["blocks"]) <= 50


def test_the_prompt_reference_round_trips() -> None:
    [message] = messages(CASES["scale"], t)
    actions = next(b for b in message.blocks if b["type"] == "actions")
    assert decode_ref(actions["block_id"]) == (7, "ask", 3)
    assert decode_ref("regie:home") is None


def test_typed_text_cannot_become_a_mention_or_link() -> None:
    hostile = "<!channel> <@U123> <https://evil.example|click> & more"
    [message] = messages([Say(hostile)], t)
    rendered = json.dumps(message.blocks) + message.text
    for raw in ("<!channel>", "<@U123>", "<https://"):
        assert raw not in rendered
    assert escape(hostile) in message.blocks[0]["text"]["text"]


def test_a_long_export_is_split_not_truncated() -> None:
    text = "\n".join(f"line {n} " + "x" * 80 for n in range(2000))
    sent = messages([Say(text)], t)
    assert len(sent) > 1
    joined = "\n".join(b["text"]["text"] for m in sent for b in m.blocks)
    assert joined.count("line ") == 2000 and all(len(m.blocks) <= 50 for m in sent)


def test_settle_replaces_the_buttons_with_the_answer() -> None:
    [message] = messages(CASES["scale"], t)
    block_id = next(b["block_id"] for b in message.blocks if b["type"] == "actions")
    settled = settle(message.blocks, block_id, "✓ 4 <3")
    assert [b["type"] for b in settled] == ["section", "context"]
    assert settled[-1]["elements"][0]["text"] == "✓ 4 &lt;3"


def test_home_view_escapes_titles() -> None:
    summary = Summary(
        title="My development",
        progress="1/3",
        experiments=["<!here> party"],
        next_checkin="soon",
        plan_heading="Plan",
        plan_items=["a & b"],
        sharing="private",
        actions=[("reflect", "Reflect")],
    )
    view = json.dumps(home_view(summary, t))
    assert "<!here>" not in view and "&lt;!here&gt;" in view


def test_a_destructive_yes_is_a_danger_button_and_no_answer_is_primary() -> None:
    from tests.bot.test_teams_cards import DestructiveConfirm

    [message] = messages([DestructiveConfirm(text="Delete everything?", retry="r", **REF)], t)
    [actions] = [b for b in message.blocks if b["type"] == "actions"]
    assert [(e["value"], e.get("style")) for e in actions["elements"]] == [
        ('"yes"', "danger"),
        ('"no"', None),
    ]
    for case in CASES.values():
        assert '"primary"' not in json.dumps([m.blocks for m in messages(case, t)])
