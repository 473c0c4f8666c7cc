"""The Slack Web API fake, driven through the real ``slack_sdk.WebClient``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.bot.fake_limits import Throttle
from tests.bot.slack_fake import MANIFEST, FakeSlack, manifest_scopes, needed_scope


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


# -- the platform contract -----------------------------------------------------------------------


def _refused(call: Callable[[], Any]) -> dict[str, Any]:
    """Slack's answer to a call slack_sdk raised for (HTTP 200, ``"ok": false``)."""
    with pytest.raises(SlackApiError) as refused:
        call()
    assert refused.value.response.status_code == 200
    data = refused.value.response.data
    assert isinstance(data, dict)
    return data


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_the_token_holds_the_scopes_manifest_json_requests(
    fake: FakeSlack, client: WebClient
) -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert fake.scopes == tuple(manifest["oauth_config"]["scopes"]["bot"])
    response = client.auth_test()
    assert response.headers["x-oauth-scopes"] == ",".join(fake.scopes)


def test_a_call_outside_the_granted_scopes_answers_missing_scope() -> None:
    granted = tuple(s for s in manifest_scopes() if s != "im:write")
    with FakeSlack(scopes=granted, strict=False) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        answer = _refused(lambda: client.conversations_open(users="U1"))
        # A DM's history needs im:history (granted); a public channel's needs channels:history.
        assert client.conversations_history(channel="DU1")["ok"] is True
        channel = _refused(lambda: client.conversations_history(channel="C1"))
        group = _refused(lambda: client.conversations_open(users="U1,U2"))
    assert answer == {
        "ok": False,
        "error": "missing_scope",
        "needed": "im:write",
        "provided": ",".join(granted),
    }
    assert channel["needed"] == "channels:history"
    assert group["needed"] == "mpim:write"
    assert [(method, answer["error"]) for method, _, answer in fake.violations] == [
        ("conversations.open", "missing_scope"),
        ("conversations.history", "missing_scope"),
        ("conversations.open", "missing_scope"),
    ]


def test_every_method_in_the_table_is_answered_and_others_are_unknown() -> None:
    assert needed_scope("conversations.open") == "im:write"  # a DM, as Regie opens them
    assert needed_scope("views.publish") is None
    assert needed_scope("users.lookupByEmail") == "users:read.email"
    with FakeSlack(strict=False) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        unknown = _refused(lambda: client.api_call("chat.frobnicate", json={"channel": "D1"}))
        unauthenticated = _refused(lambda: WebClient(base_url=fake.url).auth_test())
    assert unknown == {"ok": False, "error": "unknown_method", "req_method": "chat.frobnicate"}
    assert unauthenticated == {"ok": False, "error": "not_authed"}


def test_without_users_read_email_profiles_come_without_an_address() -> None:
    users = {"U1": _user("U1", "ann@example.com")}
    with FakeSlack(users, scopes=("users:read",)) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        assert "email" not in client.users_info(user="U1")["user"]["profile"]
    with FakeSlack(users) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        assert client.users_info(user="U1")["user"]["profile"]["email"] == "ann@example.com"


def test_a_message_over_50_blocks_is_invalid_blocks(fake: FakeSlack, client: WebClient) -> None:
    fake.strict = False
    assert client.chat_postMessage(channel="D1", text="ok", blocks=[_section("x")] * 50)["ok"]
    answer = _refused(
        lambda: client.chat_postMessage(channel="D1", text="no", blocks=[_section("x")] * 51)
    )
    assert answer == {
        "ok": False,
        "error": "invalid_blocks",
        "errors": ["no more than 50 items allowed [json-pointer:/blocks]"],
        "response_metadata": {
            "messages": ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]
        },
    }
    assert len(fake.history["D1"]) == 1  # the refused message never arrived


@pytest.mark.parametrize(
    ("block", "pointer", "limit"),
    [
        (_section("x" * 3001), "/blocks/0/text/text", 3000),
        (
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "x" * 3001}]},
            "/blocks/0/elements/0/text",
            3000,
        ),
        (
            {"type": "header", "text": {"type": "plain_text", "text": "x" * 151}},
            "/blocks/0/text/text",
            150,
        ),
        (
            {
                "type": "actions",
                "elements": [{"type": "button", "text": {"type": "plain_text", "text": "x" * 76}}],
            },
            "/blocks/0/elements/0/text/text",
            75,
        ),
        (
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "ok"},
                        "action_id": "a" * 256,
                    }
                ],
            },
            "/blocks/0/elements/0/action_id",
            255,
        ),
        (
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "ok"},
                        "value": "v" * 2001,
                    }
                ],
            },
            "/blocks/0/elements/0/value",
            2000,
        ),
        ({**_section("ok"), "block_id": "b" * 256}, "/blocks/0/block_id", 255),
    ],
    ids=["section", "context", "header", "button-text", "action_id", "value", "block_id"],
)
def test_a_text_over_its_limit_is_invalid_blocks(
    fake: FakeSlack, client: WebClient, block: dict[str, Any], pointer: str, limit: int
) -> None:
    fake.strict = False
    answer = _refused(lambda: client.chat_postMessage(channel="D1", text="t", blocks=[block]))
    message = f"must be less than {limit + 1} characters [json-pointer:{pointer}]"
    assert answer["error"] == "invalid_blocks"
    assert answer["response_metadata"]["messages"] == [f"[ERROR] {message}"]
    # One character less is fine.
    fitting = json.loads(json.dumps(block).replace("x" * (limit + 1), "x" * limit))
    fitting = json.loads(
        json.dumps(fitting)
        .replace("a" * (limit + 1), "a" * limit)
        .replace("v" * (limit + 1), "v" * limit)
        .replace("b" * (limit + 1), "b" * limit)
    )
    assert client.chat_postMessage(channel="D1", text="t", blocks=[fitting])["ok"] is True
    assert len(fake.violations) == 1


def test_an_empty_section_and_an_unknown_block_are_invalid(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.strict = False
    empty = _refused(lambda: client.chat_postMessage(channel="D1", text="t", blocks=[_section("")]))
    odd = _refused(
        lambda: client.chat_postMessage(channel="D1", text="t", blocks=[{"type": "carousel"}])
    )
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too
        nothing = _refused(lambda: client.chat_postMessage(channel="D1"))
    assert empty["errors"] == ["must be more than 0 characters [json-pointer:/blocks/0/text/text]"]
    assert odd["errors"] == ["unsupported type: carousel [json-pointer:/blocks/0/type]"]
    assert nothing == {"ok": False, "error": "no_text"}


def test_text_over_40000_characters_is_msg_too_long(fake: FakeSlack, client: WebClient) -> None:
    fake.strict = False
    assert client.chat_postMessage(channel="D1", text="x" * 40_000)["ok"] is True
    answer = _refused(lambda: client.chat_postMessage(channel="D1", text="x" * 40_001))
    update = _refused(lambda: client.chat_update(channel="D1", ts="1.2", text="x" * 40_001))
    assert answer == update == {"ok": False, "error": "msg_too_long"}


def test_views_hold_100_blocks_and_modal_titles_24_characters(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.strict = False
    blocks = [_section("x")] * 100
    assert client.views_publish(user_id="U1", view={"type": "home", "blocks": blocks})["ok"]
    answer = _refused(
        lambda: client.views_publish(user_id="U1", view={"type": "home", "blocks": blocks * 2})
    )
    assert answer == {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {
            "messages": ["[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"]
        },
    }
    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "x" * 25},
        "blocks": [_section("x" * 3001)],
    }
    refused = _refused(lambda: client.views_open(trigger_id="t", view=modal))
    assert refused["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]",
        "[ERROR] must be less than 3001 characters [json-pointer:/view/blocks/0/text/text]",
    ]


def test_a_strict_fake_fails_the_test_that_broke_the_contract() -> None:
    fake = FakeSlack(scopes=("chat:write",))
    broke = r"(?s)broke Slack's platform contract.*users\.info"
    with pytest.raises(AssertionError, match=broke), fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        with pytest.raises(SlackApiError):
            client.users_info(user="U1")
    with FakeSlack() as quiet:  # nothing broken, nothing raised
        WebClient(token="xoxb-test", base_url=quiet.url).auth_test()


def test_history_pages_newest_first(fake: FakeSlack, client: WebClient) -> None:
    for n in range(5):
        client.chat_postMessage(channel="U1", text=f"m{n}")
    first = client.conversations_history(channel="DU1", limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    rest = client.conversations_history(channel="DU1", limit=10, cursor=cursor)
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"]
    assert rest["has_more"] is False and rest["response_metadata"]["next_cursor"] == ""


def test_other_methods_can_be_rate_limited(fake: FakeSlack) -> None:
    fake.throttles["conversations.history"] = Throttle(per_second=10)  # one per tenth second
    client = WebClient(token="xoxb-test", base_url=fake.url)  # no retry handlers
    statuses = []
    for _ in range(3):
        try:
            statuses.append(client.conversations_history(channel="DU1").status_code)
        except SlackApiError as error:
            statuses.append(error.response.status_code)
    assert 429 in statuses
    assert fake.throttles["conversations.history"].throttled >= 1
