"""The Slack app manifest passes Slack's published schema and asks for what Regie needs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator
from slack_sdk import WebClient

from tests.bot.slack_fake import METHOD_SCOPES, manifest_scopes, needed_scope
from tests.schema_files import LOCAL, LOCAL_COPIES, SHARED, SLACK_MANIFEST_V2, schema_path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest.json"
EVENTS_URL = "https://regie.example.com/slack/events"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def test_manifest_is_valid_against_the_v2_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(schema_path(SLACK_MANIFEST_V2).read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    errors = sorted(Draft7Validator(schema).iter_errors(manifest), key=lambda e: list(e.path))
    assert not errors, "manifest.json does not match the schema:\n" + "\n".join(
        f"- {'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors
    )


def test_the_schema_rejects_unknown_fields(manifest: dict[str, Any]) -> None:
    schema = json.loads(schema_path(SLACK_MANIFEST_V2).read_text(encoding="utf-8"))
    broken = {**manifest, "settings": {**manifest["settings"], "socket_mode": False}}
    assert list(Draft7Validator(schema).iter_errors(broken))


def test_the_local_schema_copy_is_present_and_current() -> None:
    local = LOCAL / LOCAL_COPIES[SLACK_MANIFEST_V2]
    assert local.is_file(), "tests/schemas must hold a copy for use outside this workplace"
    shared = SHARED / SLACK_MANIFEST_V2
    if shared.is_file():
        assert local.read_bytes() == shared.read_bytes()


def test_manifest_targets_schema_v2(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"]["major_version"] == 2


def test_background_color_is_a_hex_colour(manifest: dict[str, Any]) -> None:
    # The schema spells this constraint "regex" (not "pattern"), so jsonschema does not check it.
    colour = manifest["display_information"]["background_color"]
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", colour)


def test_bot_scopes_are_exactly_what_regie_needs(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]
    assert sorted(scopes["bot"]) == sorted(
        ["chat:write", "im:history", "im:write", "commands", "users:read", "users:read.email"]
    )
    assert len(scopes["bot"]) == len(set(scopes["bot"]))
    assert set(scopes) == {"bot"}, "no user or optional scopes"


def test_events_and_interactivity(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    events = settings["event_subscriptions"]
    assert {"message.im", "app_home_opened"} <= set(events["bot_events"])
    # Regie removed from the workspace: people are marked unreachable (listeners/lifecycle.py)
    assert {"app_uninstalled", "tokens_revoked"} <= set(events["bot_events"])
    assert events["request_url"] == EVENTS_URL
    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS_URL}
    assert settings["socket_mode_enabled"] is False


def test_regie_slash_command(manifest: dict[str, Any]) -> None:
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert "/regie" in commands
    assert commands["/regie"]["url"] == EVENTS_URL


def test_home_and_messages_tabs_are_enabled(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }
    assert features["bot_user"]["display_name"] == "Regie"


def test_schema_path_falls_back_to_the_local_copy(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("tests.schema_files.SHARED", tmp_path / "missing")
    assert schema_path(SLACK_MANIFEST_V2) == LOCAL / "slack-manifest/manifest.schema.2.0.0.json"
    assert schema_path(SLACK_MANIFEST_V2).is_file()


# Scopes no Web API call needs, and what they are for.
NOT_FOR_A_METHOD = {
    "commands": "the /regie slash command",
    "im:history": "message.im events (the DMs people send)",
    "users:read.email": "profile.email in users.info, to match people by e-mail",
}
_CALL = re.compile(r"\.([a-z]+(?:_[A-Za-z]+)+)\b")
_NOT_METHODS = {"api_call", "validate_slack_signature"}


def web_api_methods_regie_calls() -> dict[str, list[str]]:
    """Slack Web API methods used anywhere in bot/ by code that uses slack_sdk
    (``….chat_postMessage`` -> ``chat.postMessage``, whatever the client is called), with
    where."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "slack_sdk" not in text and "WebClient" not in text:
            continue
        for match in _CALL.finditer(text):
            name = match.group(1)
            if name in _NOT_METHODS or not callable(getattr(WebClient, name, None)):
                continue
            line = text.count("\n", 0, match.start()) + 1
            found.setdefault(name.replace("_", "."), []).append(f"{path.relative_to(ROOT)}:{line}")
    return found


def test_the_fake_grants_what_the_manifest_requests(manifest: dict[str, Any]) -> None:
    assert manifest_scopes(MANIFEST) == tuple(manifest["oauth_config"]["scopes"]["bot"])


def test_every_web_api_method_regie_calls_is_granted_by_the_manifest(
    manifest: dict[str, Any],
) -> None:
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    calls = web_api_methods_regie_calls()
    # The scan finds the calls we know of (else it is broken, and this test proves nothing).
    assert {"chat.postMessage", "conversations.open", "conversations.history"} <= set(calls)
    unknown = sorted(set(calls) - set(METHOD_SCOPES))
    assert not unknown, f"add these methods and their scopes to slack_fake.METHOD_SCOPES: {unknown}"
    missing = {
        method: (needed_scope(method), where)
        for method, where in calls.items()
        if needed_scope(method) not in granted | {None}
    }
    assert not missing, f"manifest.json lacks the scope these calls need (in a DM): {missing}"


def test_every_requested_scope_is_used(manifest: dict[str, Any]) -> None:
    needed = {needed_scope(method) for method in web_api_methods_regie_calls()}
    unused = set(manifest["oauth_config"]["scopes"]["bot"]) - needed - set(NOT_FOR_A_METHOD)
    assert not unused, f"scopes requested but never needed: {sorted(unused)}"
