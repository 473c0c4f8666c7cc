"""The channel registry: which chat channels the settings turn on, who each can reach, and the
launch's "who cannot be reached and why" — without importing any platform SDK."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.channels.registry import CHAT, CONSOLE, Reachability, chat_channels, switches
from bot.config import Settings
from storage.models import Person

SLACK_ON = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "secret"}
TEAMS_ON = {"teams_allow_unauthenticated": True}


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def someone(person_id: int, **accounts: str) -> Person:
    return Person(
        id=person_id,
        email=f"p{person_id}@example.com",
        name="P",
        language="en",
        timezone="Europe/Amsterdam",
        country="NL",
        **accounts,
    )


def test_the_chat_channels_in_delivery_order_and_as_healthz_reports_them() -> None:
    assert [c.name for c in CHAT] == ["slack", "teams"]
    both = settings(**SLACK_ON, **TEAMS_ON)
    assert [c.name for c in chat_channels(both)] == ["slack", "teams"]
    assert [c.name for c in chat_channels(settings(**TEAMS_ON))] == ["teams"]
    assert switches(settings()) == {"slack": False, "teams": False}
    assert switches(settings(**SLACK_ON)) == {"slack": True, "teams": False}


@pytest.mark.parametrize(
    ("on", "accounts", "opened_teams", "expected"),
    [
        ({}, {"slack_user_id": "U1"}, False, ("console", "")),
        (SLACK_ON | TEAMS_ON, {"slack_user_id": "U1", "teams_aad_id": "T1"}, False, ("slack", "")),
        (TEAMS_ON, {"teams_aad_id": "T1"}, True, ("teams", "")),
        (
            TEAMS_ON,
            {"teams_aad_id": "T1"},
            False,
            ("console", "has not opened Regie in Teams yet (no conversation to write to)"),
        ),
        (
            SLACK_ON,
            {"teams_aad_id": "T1"},
            True,
            ("console", "no Slack or Teams account known; sees it at 'regie chat'"),
        ),
    ],
)
def test_who_can_be_reached_where_and_why_not(
    on: dict[str, object],
    accounts: dict[str, str],
    opened_teams: bool,
    expected: tuple[str, str],
) -> None:
    reach = Reachability(settings(**on), {"teams": {7} if opened_teams else set()})
    assert reach.of(someone(7, **accounts)) == expected


def test_the_console_reaches_everyone() -> None:
    assert CONSOLE.can_reach(someone(1)) and CONSOLE.load is None


def test_the_registry_imports_no_platform_sdk() -> None:
    """``regie campaign launch`` asks who can be reached without loading Slack or Teams."""
    code = (
        "import sys, bot.channels.registry\n"
        "sdks = ('slack_sdk', 'slack_bolt', 'botbuilder', 'aiohttp')\n"
        "print([m for m in sys.modules if m.split('.')[0] in sdks])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
