"""The Slack Web API fake, driven through the real ``slack_sdk.WebClient``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.bot.slack_fake import FakeSlack


def _user(uid: str, email: str) -> dict[str, Any]:
    return {"id": uid, "name": uid.lower(), "profile": {"email": email}}


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as running:
        yield running


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url)


def test_post_message_records_decoded_blocks(fake: FakeSlack, client: WebClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hi*"}}]
    first = client.chat_postMessage(channel="DU1", text="Hi", blocks=blocks)
    second = client.chat_postMessage(channel="DU1", text="Again", thread_ts=first["ts"])
    assert client.auth_test()["user_id"] == "UBOT"

    calls = fake.wait_for("chat.postMessage", count=2)
    assert calls[0] == {"channel": "DU1", "text": "Hi", "blocks": blocks}
    assert calls[1]["thread_ts"] == first["ts"]
    assert first["channel"] == "DU1"
    assert first["message"]["blocks"] == blocks
    assert float(second["ts"]) > float(first["ts"])
    assert [name for name, _ in fake.calls] == ["chat.postMessage", "chat.postMessage", "auth.test"]

    # Form-encoded, as slack_sdk sends most non-chat methods: lists must be JSON text (urlencode
    # would send Python's repr), JSON-looking values are decoded, everything else stays a string.
    form = {"channel": "C1", "blocks": json.dumps(blocks), "mrkdwn": True}
    client.api_call("chat.postMessage", data=form)
    assert fake.calls_to("chat.postMessage")[2] == {
        "channel": "C1",
        "blocks": blocks,
        "mrkdwn": "1",
    }


def test_users_list_pages_with_a_cursor(fake: FakeSlack, client: WebClient) -> None:
    for n in range(1, 6):
        fake.users[f"U{n}"] = _user(f"U{n}", f"person{n}@example.com")

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = client.users_list(cursor=cursor, limit=200)
        pages += 1
        seen += [member["id"] for member in page["members"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert seen == ["U1", "U2", "U3", "U4", "U5"]
    assert pages == 3
    assert fake.calls_to("users.list")[0] == {"limit": "200"}  # form-encoded: ints become strings

    # slack_sdk's own iteration follows next_cursor too.
    assert [m["id"] for p in client.users_list(limit=1) for m in p["members"]] == seen

    assert client.users_info(user="U3")["user"]["profile"]["email"] == "person3@example.com"
    assert client.users_lookupByEmail(email="person4@example.com")["user"]["id"] == "U4"
    assert client.conversations_open(users="U3")["channel"]["id"] == "DU3"
    with pytest.raises(SlackApiError) as missing:
        client.users_info(user="U9")
    assert missing.value.response["error"] == "user_not_found"


def test_fail_next_fails_once(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", "channel_not_found")
    with pytest.raises(SlackApiError) as failed:
        client.chat_postMessage(channel="C404", text="lost")
    assert failed.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="ok")["ok"] is True
    assert [c["channel"] for c in fake.calls_to("chat.postMessage")] == ["C404", "C1"]

    with pytest.raises(AssertionError, match=r"(?s)chat\.update.*C404"):
        fake.wait_for("chat.update", timeout=0.05)
