"""The schema validators accept minimal valid documents and name what is wrong in broken ones."""

from __future__ import annotations

import copy
from typing import Any

from botbuilder.schema import Activity, Attachment, ChannelAccount, ConversationAccount

from tests.schema_validators import activity_errors, card_errors, teams_manifest_errors

ADAPTIVE = "application/vnd.microsoft.card.adaptive"

CARD: dict[str, Any] = {
    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
    "type": "AdaptiveCard",
    "version": "1.5",
    "body": [
        {"type": "TextBlock", "text": "What is your goal?", "wrap": True},
        {"type": "Input.Text", "id": "goal", "label": "Goal", "isRequired": True},
    ],
    "actions": [{"type": "Action.Submit", "title": "Save", "data": {"action": "save"}}],
}

ACTIVITY: dict[str, Any] = {
    "type": "message",
    "channelId": "msteams",
    "conversation": {"id": "a:1", "conversationType": "personal"},
    "from": {"id": "28:bot", "name": "Regie"},
    "recipient": {"id": "29:user", "name": "Ann"},
    "text": "hi",
}

MANIFEST: dict[str, Any] = {
    "$schema": "https://developer.microsoft.com/en-us/json-schemas/teams/v1.30/MicrosoftTeams.schema.json",
    "manifestVersion": "1.30",
    "version": "1.0.0",
    "id": "11111111-2222-3333-4444-555555555555",
    "developer": {
        "name": "Example Ltd",
        "websiteUrl": "https://example.com",
        "privacyUrl": "https://example.com/privacy",
        "termsOfUseUrl": "https://example.com/terms",
    },
    "name": {"short": "Regie"},
    "description": {"short": "Your development coach", "full": "Regie helps you grow."},
    "icons": {"outline": "outline.png", "color": "color.png"},
    "accentColor": "#4464EE",
    "bots": [
        {
            "botId": "66666666-7777-8888-9999-000000000000",
            "scopes": ["personal"],
            "supportsFiles": False,
            "isNotificationOnly": False,
        }
    ],
    "permissions": ["identity", "messageTeamMembers"],
    "validDomains": [],
}


def _with(document: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed.update(changes)
    return changed


# -- Adaptive Cards ------------------------------------------------------------------------------


def test_minimal_card_is_valid() -> None:
    assert card_errors(CARD) == []


def test_card_errors_name_the_element_not_the_whole_anyof() -> None:
    card = copy.deepcopy(CARD)
    card["body"][0]["colour"] = "red"  # unknown property (it is "color")
    card["body"][1]["isRequired"] = "yes"  # wrong type
    card["actions"][0]["title"] = 3
    card["speak"] = ["not", "a", "string"]
    assert card_errors(card) == [
        "actions/0/title: 3 is not of type 'string'",
        "body/0: Additional properties are not allowed ('colour' was unexpected)",
        "body/1/isRequired: 'yes' is not of type 'boolean'",
        "speak: ['not', 'a', 'string'] is not of type 'string'",
    ]


def test_card_errors_for_unknown_or_missing_types() -> None:
    card = _with(CARD, body=[{"type": "Input.Txt", "id": "x"}, {"text": "no type"}])
    assert card_errors(card) == [
        "body/0: 'Input.Txt' is not one of the types allowed here",
        "body/1: 'type' is a required property",
    ]
    assert card_errors({"type": "HeroCard"}) == ["type: 'HeroCard' is not one of ['AdaptiveCard']"]


def test_card_errors_inside_nested_containers() -> None:
    inner = {"type": "Container", "items": [{"type": "TextBlock", "text": 1}]}
    assert card_errors(_with(CARD, body=[inner])) == [
        "body/0/items/0/text: 1 is not of type 'string'"
    ]


# -- Bot Framework Activity ----------------------------------------------------------------------


def test_minimal_message_activity_is_valid() -> None:
    assert activity_errors(ACTIVITY) == []


def test_activity_without_type_is_invalid() -> None:
    activity = copy.deepcopy(ACTIVITY)
    del activity["type"]
    assert activity_errors(activity) == ["<root>: 'type' is a required property"]


def test_activity_checks_its_adaptive_cards() -> None:
    bad_card = _with(CARD, body=[{"type": "TextBlock"}])
    activity = _with(
        ACTIVITY,
        attachments=[
            {"contentType": ADAPTIVE, "content": CARD},
            {"contentType": "image/png", "contentUrl": "https://example.com/a.png"},
            {"contentType": ADAPTIVE, "content": bad_card},
        ],
    )
    assert activity_errors(activity) == [
        "attachments/2/content/body/0: 'text' is a required property"
    ]
    assert activity_errors(_with(ACTIVITY, attachments=[{"content": CARD}])) == [
        "attachments/0: 'contentType' is a required property"
    ]


def test_botbuilder_serialised_reply() -> None:
    """A reply as botbuilder serialises it; the schema insists on ChannelAccount.name."""
    activity = Activity(
        type="message",
        text="hi",
        text_format="plain",
        attachments=[Attachment(content_type=ADAPTIVE, content=CARD)],
        from_property=ChannelAccount(id="bot"),
        recipient=ChannelAccount(id="u1", aad_object_id="aad"),
        conversation=ConversationAccount(id="c1", conversation_type="personal"),
        channel_id="msteams",
        service_url="http://127.0.0.1:1/",
        reply_to_id="a1",
    ).serialize()
    assert activity_errors(activity) == [
        "from: 'name' is a required property",
        "recipient: 'name' is a required property",
    ]
    activity["from"]["name"] = "Regie"
    activity["recipient"]["name"] = "Ann"
    assert activity_errors(activity) == []


def test_activity_schema_is_loose_about_unknown_fields_and_values() -> None:
    """Documented looseness: no additionalProperties, and no enums for type/textFormat."""
    loose = _with(ACTIVITY, type="mesage", textFormat="html", txt="typo")
    assert activity_errors(loose) == []


# -- Teams manifest ------------------------------------------------------------------------------


def test_minimal_personal_bot_manifest_is_valid() -> None:
    assert teams_manifest_errors(MANIFEST) == []


def test_invalid_manifest() -> None:
    manifest = _with(MANIFEST, accentColor="blue", unknown=True)
    manifest["bots"][0]["scopes"] = ["personal", "everywhere"]
    del manifest["developer"]["privacyUrl"]
    assert teams_manifest_errors(manifest) == [
        "<root>: Additional properties are not allowed ('unknown' was unexpected)",
        "accentColor: 'blue' does not match '^#[0-9a-fA-F]{6}$'",
        "bots/0/scopes/1: 'everywhere' is not one of ['team', 'personal', 'groupChat', 'copilot']",
        "developer: 'privacyUrl' is a required property",
    ]


def test_manifest_version_const_is_enforced_despite_draft_04() -> None:
    assert teams_manifest_errors(_with(MANIFEST, manifestVersion="1.29")) == [
        "manifestVersion: '1.30' was expected"
    ]
