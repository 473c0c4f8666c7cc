"""What Regie renders stays within what Slack and Teams accept, however long the text: a long
answer becomes several sections, messages or activities, and not a character is lost.

Each case is checked against the fakes' contract (the same checks the fakes answer with) and
sent through the real clients to the strict fakes."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from botbuilder.schema import Activity, Attachment, ChannelAccount, ConversationAccount
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from slack_sdk import WebClient

from bot.channels.slack.blocks import home_view, messages
from bot.channels.teams.cards import activities
from dialogs.engine.content import load_content
from dialogs.engine.replies import Choice, ChoicePrompt, Offer, Reply, Say, TextPrompt
from dialogs.flows.home import Summary
from tests.bot.slack_fake import (
    MESSAGE_BLOCKS_LIMIT,
    SECTION_TEXT_LIMIT,
    FakeSlack,
    contract_error,
    manifest_scopes,
    view_problems,
)
from tests.bot.teams_fake import MAX_ACTIVITY_BYTES, FakeConnector, activity_size
from tests.schema_validators import activity_errors

REF: dict[str, Any] = {"session_id": 7, "step": "ask", "seq": 3}
# What botbuilder adds to an activity on the way out (a long Teams conversation id included).
ENVELOPE: dict[str, Any] = {
    "from": {"id": "28:" + "b" * 60, "name": "Regie"},
    "recipient": {"id": "29:" + "u" * 80, "name": "Ann Example", "aadObjectId": "a" * 36},
    "conversation": {"id": "a:" + "c" * 120, "conversationType": "personal", "tenantId": "t" * 36},
    "channelId": "msteams",
    "serviceUrl": "https://smba.trafficmanager.net/emea/" + "s" * 40,
    "replyToId": "f:" + "r" * 60,
    "inputHint": "acceptingInput",
    "locale": "en-US",
}
LINES = "\n".join(f"Line {n}: " + "a fairly ordinary sentence & <more> " * 6 for n in range(900))
HOSTILE = ("*bold* _x_ [link](https://e.example) `code` & <@U1> " * 40 + "\n- item\n1. one\n") * 80
ONE_WORD = "a&b<c>" * 4000  # no spaces at all: must be cut inside the word, never in an escape


def t(key: str, **values: object) -> str:
    return load_content().text("en", key, **values)


def _letters(text: str) -> str:
    """The text without its whitespace: what must survive any splitting, in order."""
    return "".join(text.split())


def _slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _card_unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


CASES: dict[str, list[Reply]] = {
    "lines": [Say(LINES)],
    "hostile": [Say(HOSTILE)],
    "one_word": [Say(ONE_WORD)],
    "said_then_asked": [
        Say(LINES),
        ChoicePrompt(text="Which?", retry="r", choices=(Choice("A", "a"), Choice("B", "b")), **REF),
    ],
    "long_question": [TextPrompt(text=LINES, retry="r", **REF)],
    "long_offer": [Offer(text=HOSTILE, actions=(("reflect", "Reflect"),))],
    "campaign": [
        Offer(text=f"Workshop {n}: " + LINES[:3000], actions=((f"campaign:1:w{n}:yes", "Yes"),))
        for n in range(20)
    ],
    "digest": [
        Say(f"What Person {n} has shared:\n" + "• Experiment: something long\n" * 40, section=True)
        for n in range(60)
    ],
}


# -- Slack ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CASES))
def test_slack_messages_keep_every_limit_and_every_character(name: str) -> None:
    replies = CASES[name]
    sent = messages(replies, t)
    granted = manifest_scopes()
    for message in sent:
        call = {"channel": "U1", "text": message.text, "blocks": message.blocks}
        assert contract_error("chat.postMessage", call, granted) is None
        assert len(message.blocks) <= MESSAGE_BLOCKS_LIMIT
    sections = [
        _slack_unescape(block["text"]["text"])
        for message in sent
        for block in message.blocks
        if block["type"] == "section"
    ]
    assert all(len(s) <= SECTION_TEXT_LIMIT for s in sections)
    assert _letters("".join(sections)) == _letters("".join(r.text for r in replies))
    if isinstance(replies[-1], ChoicePrompt):  # the buttons come with the end of the question
        assert sent[-1].blocks[-1]["type"] == "actions"


def test_a_long_text_is_cut_between_lines_where_it_can() -> None:
    [message, *_] = messages([Say(LINES)], t)
    first = message.blocks[0]["text"]["text"]
    assert first.endswith("&lt;more&gt; ")  # a whole line
    assert len(first) <= SECTION_TEXT_LIMIT
    assert message.blocks[1]["text"]["text"].startswith("Line ")


def test_long_slack_messages_go_through_the_real_client_to_the_strict_fake() -> None:
    with FakeSlack() as fake:  # strict: any refusal fails the test when the fake stops
        client = WebClient(token="xoxb-test", base_url=fake.url)
        for name in ("lines", "hostile", "one_word", "said_then_asked"):
            for message in messages(CASES[name], t):
                client.chat_postMessage(channel="U1", text=message.text, blocks=message.blocks)
    assert len(fake.history["DU1"]) > 4


def test_a_home_tab_with_many_plan_items_keeps_the_limits_and_shows_a_summary() -> None:
    items = [f"Plan item {n} " + "x" * 480 for n in range(300)]
    summary = Summary(
        title="Your development " + "t" * 200,
        progress="1/3 new things in 2026",
        experiments=[f"Experiment {n} " + "e" * 480 for n in range(200)],
        next_checkin="Next check-in: Tuesday",
        plan_heading="Your plan",
        plan_items=items,
        sharing="Shared with your manager: 0 of 300",
        actions=[("reflect", "Reflect"), ("plan", "Plan")],
    )
    view = home_view(summary, t)
    assert view_problems(view) == []
    shown = "\n".join(b["text"]["text"] for b in view["blocks"] if b["type"] == "section")
    assert "• Plan item 0 " in shown and "• Plan item 7 " in shown and "Plan item 8 " not in shown
    assert "…and 292 more" in shown and "…and 192 more" in shown
    with FakeSlack() as fake:
        WebClient(token="xoxb-test", base_url=fake.url).views_publish(user_id="U1", view=view)
    assert fake.calls_to("views.publish")


# -- Teams ---------------------------------------------------------------------------------------


def _shown(activity: dict[str, Any]) -> str:
    """What a person reads: the card's text blocks (a list's "- " items as the "• " lines they
    came from), or the plain text."""
    attachments = activity.get("attachments")
    if not attachments:
        return str(activity["text"])
    body = attachments[0]["content"]["body"]
    return "".join(_read(e["text"]) for e in body if e["type"] == "TextBlock")


def _read(markdown: str) -> str:
    if markdown.startswith("- "):
        markdown = "• " + markdown[2:].replace("\r- ", "\n• ")
    return _card_unescape(markdown)


@pytest.mark.parametrize("name", sorted(CASES))
def test_teams_activities_keep_the_size_limit_and_every_character(name: str) -> None:
    replies = CASES[name]
    sent = activities(replies, t)
    for activity in sent:
        assert activity_size(activity | ENVELOPE) <= MAX_ACTIVITY_BYTES
        assert activity_errors(activity | ENVELOPE) == []
    shown = _letters("".join(_shown(a) for a in sent))
    assert shown.startswith(_letters("".join(r.text for r in replies)))
    if isinstance(replies[-1], ChoicePrompt | TextPrompt):  # the question's card comes last
        last = sent[-1]["attachments"][0]["content"]
        assert last.get("actions")
        assert all(
            "actions" not in a.get("attachments", [{}])[0].get("content", {}) for a in sent[:-1]
        )


def test_a_short_turn_is_still_one_activity() -> None:
    assert len(activities([Say("Noted."), CASES["said_then_asked"][1]], t)) == 1


def test_campaign_parts_keep_their_own_buttons_when_split() -> None:
    sent = activities(CASES["campaign"], t)
    assert len(sent) > 1
    for activity in sent:
        content = activity["attachments"][0]["content"]
        assert "actions" not in content  # nothing is settled after a press
        assert any(e["type"] == "ActionSet" for e in content["body"])


def test_long_teams_activities_go_through_botbuilder_to_the_strict_connector() -> None:
    async def send(fake: FakeConnector, outgoing: list[dict[str, Any]]) -> None:
        async with ConnectorClient(MicrosoftAppCredentials.empty(), base_url=fake.url) as client:
            for data in outgoing:
                activity = Activity(
                    type=data["type"],
                    text=data.get("text"),
                    text_format=data.get("textFormat"),
                    attachments=[
                        Attachment(content_type=a["contentType"], content=a["content"])
                        for a in data.get("attachments", [])
                    ]
                    or None,
                    from_property=ChannelAccount(id=ENVELOPE["from"]["id"], name="Regie"),
                    recipient=ChannelAccount(id=ENVELOPE["recipient"]["id"], name="Ann"),
                    conversation=ConversationAccount(id=ENVELOPE["conversation"]["id"]),
                    channel_id="msteams",
                )
                await client.conversations.send_to_conversation(activity.conversation.id, activity)

    outgoing = [
        a
        for name in ("lines", "hostile", "said_then_asked", "digest")
        for a in activities(CASES[name], t)
    ]
    with FakeConnector() as fake:  # strict: a 413 anywhere fails the test when it stops
        asyncio.run(send(fake, outgoing))
        assert len(fake.wait_sent(len(outgoing))) == len(outgoing)
    cards = [a["attachments"][0]["content"] for a in fake.sent if a.get("attachments")]
    assert json.dumps(cards).count("What Person") == 60
