"""The fake Bot Connector answers the requests botbuilder's own clients really make."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
)
from botframework.connector import ConnectorClient as SyncConnectorClient
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import MicrosoftAppCredentials
from botframework.connector.models import ErrorResponseException

from tests.bot.teams_fake import (
    ERROR_TYPE,
    MAX_ACTIVITY_BYTES,
    FakeConnector,
    activity_size,
    invoke_refusal,
)
from tests.schema_validators import activity_errors

# Real Teams ids contain ':', ';' and '@', which msrest percent-encodes in the path.
PERSONAL = "a:1Xy-z_9;messageid=1700000000000"
CHANNEL = "19:abc123@thread.tacv2;messageid=1700000000001"
CARD = {
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [{"type": "TextBlock", "text": "Hello", "wrap": True}],
}


def _reply(text: str, conversation: str = PERSONAL) -> Activity:
    return Activity(
        type="message",
        text=text,
        from_property=ChannelAccount(id="28:bot", name="Regie"),
        recipient=ChannelAccount(id="29:user", name="Ann", aad_object_id="aad-1"),
        conversation=ConversationAccount(id=conversation, conversation_type="personal"),
        channel_id="msteams",
    )


def _client(fake: FakeConnector) -> ConnectorClient:
    return ConnectorClient(MicrosoftAppCredentials.empty(), base_url=fake.url)


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if not key.startswith("_")}


def test_send_reply_and_update_through_the_sdk_client() -> None:
    async def scenario(fake: FakeConnector) -> tuple[str, str, str]:
        async with _client(fake) as client:
            sent = await client.conversations.send_to_conversation(PERSONAL, _reply("one"))
            replied = await client.conversations.reply_to_activity(
                CHANNEL, "1700000000001", _reply("two", CHANNEL)
            )
            edit = _reply("one, edited")
            edit.id = sent.id
            updated = await client.conversations.update_activity(PERSONAL, sent.id, edit)
        return sent.id, replied.id, updated.id

    with FakeConnector() as fake:
        sent_id, replied_id, updated_id = asyncio.run(scenario(fake))
        sent = fake.wait_sent(2)
        updates = fake.wait_updates(1)

    assert (sent_id, replied_id, updated_id) == ("act-1", "act-2", "act-1")
    assert [(s["text"], s["_conversation"], s["_reply_to"]) for s in sent] == [
        ("one", PERSONAL, None),
        ("two", CHANNEL, "1700000000001"),
    ]
    assert sent[0]["from"] == {"id": "28:bot", "name": "Regie"}
    assert updates[0]["text"] == "one, edited"
    assert (updates[0]["_conversation"], updates[0]["_activity_id"]) == (PERSONAL, "act-1")
    assert updates[0]["id"] == "act-1"
    assert fake.token_requests == 0  # empty credentials: the SDK asks for no token
    assert fake.unknown == []


def test_get_member_and_members() -> None:
    ann = {
        "id": "29:user",
        "name": "Ann Example",
        "aadObjectId": "aad-1",
        "email": "ann@example.com",
        "userPrincipalName": "ann@example.com",
        "tenantId": "t1",
        "userRole": "user",
    }

    async def scenario(fake: FakeConnector) -> tuple[Any, list[Any], int]:
        async with _client(fake) as client:
            member = await client.conversations.get_conversation_member(PERSONAL, "29:user")
            members = await client.conversations.get_conversation_members(PERSONAL)
            with pytest.raises(ErrorResponseException) as missing:
                await client.conversations.get_conversation_member(PERSONAL, "29:nobody")
        return member, members, missing.value.response.status_code

    with FakeConnector(members={"29:user": ann}) as fake:
        member, members, status = asyncio.run(scenario(fake))

    assert (member.id, member.name, member.aad_object_id) == ("29:user", "Ann Example", "aad-1")
    # Teams-only fields are not ChannelAccount attributes; msrest keeps them here:
    assert member.additional_properties["email"] == "ann@example.com"
    assert [m.id for m in members] == ["29:user"]
    assert status == 404


def test_fail_next_and_create_conversation() -> None:
    async def scenario(fake: FakeConnector) -> tuple[int, str, str]:
        async with _client(fake) as client:
            fake.fail_next(503)
            with pytest.raises(ErrorResponseException) as failed:
                await client.conversations.send_to_conversation(PERSONAL, _reply("lost"))
            again = await client.conversations.send_to_conversation(PERSONAL, _reply("retry"))
            created = await client.conversations.create_conversation(
                ConversationParameters(
                    bot=ChannelAccount(id="28:bot"),
                    members=[ChannelAccount(id="29:user")],
                    tenant_id="t1",
                )
            )
        return failed.value.response.status_code, again.id, created.id

    with FakeConnector() as fake:
        status, again_id, created_id = asyncio.run(scenario(fake))
        sent = fake.wait_sent(2)

    assert status == 503
    assert again_id == "act-1"
    assert [(s["text"], s.get("_status")) for s in sent] == [("lost", 503), ("retry", None)]
    assert created_id == "new-conv"
    assert fake.created[0]["members"] == [{"id": "29:user"}]


def test_sync_client_and_token_endpoint() -> None:
    with FakeConnector() as fake:
        client = SyncConnectorClient(MicrosoftAppCredentials.empty(), base_url=fake.url)
        assert client.conversations.send_to_conversation(CHANNEL, _reply("sync")).id == "act-1"
        request = urllib.request.Request(
            fake.url + "botframework.com/oauth2/v2.0/token",
            data=b"grant_type=client_credentials&client_id=x&client_secret=y",
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            token = json.load(response)
        assert fake.wait_sent()[0]["_conversation"] == CHANNEL

    assert token["access_token"] and token["token_type"] == "Bearer"
    assert fake.token_requests == 1


def test_cloud_adapter_proactive_send_goes_to_the_fake_and_matches_the_schema() -> None:
    """What botbuilder itself sends, through CloudAdapter + TurnContext (auth disabled)."""

    class Config:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    async def scenario(fake: FakeConnector) -> None:
        adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(Config()))
        incoming = Activity(
            type="message",
            id="incoming-1",
            channel_id="msteams",
            service_url=fake.url,
            from_property=ChannelAccount(id="29:user", name="Ann", aad_object_id="aad-1"),
            recipient=ChannelAccount(id="28:bot", name="Regie"),
            conversation=ConversationAccount(
                id=PERSONAL, conversation_type="personal", tenant_id="t1"
            ),
        )

        async def logic(context: TurnContext) -> None:
            first = await context.send_activity("plain")
            await context.send_activity(MessageFactory.attachment(CardFactory.adaptive_card(CARD)))
            edit = MessageFactory.text("plain, edited")
            edit.id = first.id
            await context.update_activity(edit)

        reference = TurnContext.get_conversation_reference(incoming)
        await adapter.continue_conversation(reference, logic, "")

    with FakeConnector() as fake:
        asyncio.run(scenario(fake))
        sent = fake.wait_sent(2)
        updates = fake.wait_updates(1)

    # continue_conversation makes up a ContinueConversation event with a fresh uuid id, and
    # TurnContext replies to it: proactive messages arrive as reply_to_activity calls.
    reply_to = sent[0]["_reply_to"]
    assert reply_to and reply_to != "incoming-1"
    assert [s["replyToId"] for s in sent] == [reply_to, reply_to]
    assert sent[0]["text"] == "plain"
    assert sent[0]["inputHint"] == "acceptingInput"
    assert sent[0]["conversation"]["tenantID"] == "t1"  # sic: msrest's key for tenant_id
    assert sent[1]["attachmentLayout"] == "list"
    assert sent[1]["attachments"][0]["content"] == CARD
    assert updates[0]["_activity_id"] == "act-1"
    for record in [*sent, *updates]:
        assert activity_errors(_public(record)) == []
    assert fake.token_requests == 0


# -- the platform contract -----------------------------------------------------------------------


def test_activity_size_counts_utf16_of_the_json() -> None:
    assert activity_size({"text": "ab"}) == len('{"text":"ab"}') * 2
    assert activity_size({"text": "é"}) - activity_size({"text": "e"}) == 0  # one UTF-16 unit
    assert activity_size({"text": "😀"}) - activity_size({"text": "e"}) == 2  # a surrogate pair
    assert MAX_ACTIVITY_BYTES == 28 * 1024


def test_an_activity_over_the_size_limit_answers_413_message_size_too_big() -> None:
    async def send(fake: FakeConnector, text: str) -> int:
        async with _client(fake) as client:
            try:
                await client.conversations.send_to_conversation(PERSONAL, _reply(text))
            except ErrorResponseException as error:
                # botbuilder reads the connector's ErrorResponse shape: {"error": {code, message}}
                assert error.error.error.code == "MessageSizeTooBig"
                assert "exceeds the limit" in error.error.error.message
                return int(error.response.status_code)
        return 200

    with FakeConnector() as measure:
        assert asyncio.run(send(measure, "x" * 1000)) == 200
        size = activity_size(_public(measure.wait_sent()[0]))
    # Exactly at the limit passes; one byte over is refused, and never reaches the chat.
    with FakeConnector(max_activity_bytes=size) as fake:
        assert asyncio.run(send(fake, "x" * 1000)) == 200
    with FakeConnector(max_activity_bytes=size - 1, strict=False) as fake:
        assert asyncio.run(send(fake, "x" * 1000)) == 413
        assert fake.sent == []
        [refused] = fake.violations
    assert (refused["_method"], refused["_status"]) == ("POST", 413)
    assert refused["_error"]["error"]["code"] == "MessageSizeTooBig"
    assert refused["text"] == "x" * 1000

    # The real limit: 28 KB of UTF-16 is some 14,000 characters.
    with FakeConnector(strict=False) as fake:
        assert asyncio.run(send(fake, "x" * 13_000)) == 200
        assert asyncio.run(send(fake, "x" * 15_000)) == 413


def test_an_update_over_the_size_limit_is_refused_too() -> None:
    async def scenario(fake: FakeConnector) -> int:
        async with _client(fake) as client:
            edit = _reply("y" * 20_000)
            edit.id = "act-1"
            with pytest.raises(ErrorResponseException) as refused:
                await client.conversations.update_activity(PERSONAL, "act-1", edit)
        return int(refused.value.response.status_code)

    with FakeConnector(strict=False) as fake:
        assert asyncio.run(scenario(fake)) == 413
    assert fake.updates == []
    assert [v["_method"] for v in fake.violations] == ["PUT"]


def _post(fake: FakeConnector, body: bytes) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        fake.url + "v3/conversations/a%3A1/activities",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_malformed_activities_are_refused_like_the_connector_does() -> None:
    with FakeConnector(strict=False) as fake:
        answers = [
            _post(fake, b"not json"),
            _post(fake, b"[1, 2]"),
            _post(fake, json.dumps({"text": "no type"}).encode()),
            _post(fake, json.dumps({"type": "message", "attachments": "x"}).encode()),
            _post(fake, json.dumps({"type": "message", "attachments": [{"content": {}}]}).encode()),
            _post(fake, json.dumps({"type": "message", "text": "fine"}).encode()),
        ]
    assert [(status, body.get("error", {}).get("code")) for status, body in answers] == [
        (400, "BadSyntax"),
        (400, "BadSyntax"),
        (400, "MissingProperty"),
        (400, "BadArgument"),
        (400, "MissingProperty"),
        (200, None),
    ]
    assert answers[-1][1] == {"id": "act-1"}
    assert len(fake.violations) == 5 and len(fake.sent) == 1


def test_a_strict_connector_fails_the_test_that_broke_the_contract() -> None:
    fake = FakeConnector()
    with pytest.raises(AssertionError, match=r"(?s)broke the Bot Connector's contract.*413"), fake:
        assert _post(fake, json.dumps({"type": "message", "text": "x" * 20_000}).encode())[0] == 413


def _card_answer(card: dict[str, Any], status: int = 200) -> dict[str, Any]:
    return {"statusCode": status, "type": "application/vnd.microsoft.card.adaptive", "value": card}


def test_an_invoke_must_be_answered_within_the_request_in_the_protocols_shape() -> None:
    fake = FakeConnector(strict=False)
    assert invoke_refusal(200, _card_answer(CARD)) is None
    message = {"statusCode": 200, "type": "application/vnd.microsoft.activity.message"}
    assert invoke_refusal(200, message | {"value": "✓ Done"}) is None
    error = {"code": "BadRequest", "message": "no"}
    assert invoke_refusal(400, {"statusCode": 400, "type": ERROR_TYPE, "value": error}) is None

    assert "not answered" in str(invoke_refusal(501, None))  # botbuilder: no invoke response
    assert "HTTP status" in str(invoke_refusal(200, _card_answer(CARD, status=201)))
    assert "1.4 or later" in str(invoke_refusal(200, _card_answer(CARD | {"version": "1.3"})))
    assert "AdaptiveCard" in str(invoke_refusal(200, _card_answer({"type": "Card"})))
    assert "unknown" in str(invoke_refusal(200, {"statusCode": 200, "type": "text/plain"}))
    assert invoke_refusal(200, message | {"value": {"not": "text"}}) is not None
    assert invoke_refusal(200, {"statusCode": 200, "type": ERROR_TYPE, "value": error})

    big = CARD | {"body": [{"type": "TextBlock", "text": "x" * MAX_ACTIVITY_BYTES}]}
    assert "over" in str(invoke_refusal(200, _card_answer(big)))
    record = fake.invoke_answered(200, _card_answer(big))
    assert record["_status"] == 200 and record["_error"]["error"]["code"] == "BadInvokeResponse"
    assert fake.refusals() and fake.violations == [record]


def test_a_strict_connector_refuses_a_bad_invoke_response_at_once() -> None:
    fake = FakeConnector()
    assert fake.invoke_answered(200, _card_answer(CARD))["value"] == CARD
    with pytest.raises(AssertionError, match="not answered"):
        fake.invoke_answered(501, None)
    fake.violations.clear()  # (the test broke it on purpose)
