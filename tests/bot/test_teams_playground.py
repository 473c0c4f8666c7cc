"""End to end through the Microsoft 365 Agents Playground (a local Teams-like client): a user
message goes from the Playground to ``regie serve`` and the bot's Adaptive Card comes back.

Needs the Playground (npm ``@microsoft/m365agentsplayground``): ``.ci/run`` installs it and sets
``REGIE_TEST_PLAYGROUND`` to its ``agentsplayground`` command; without it this test skips."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from tests.bot.test_serve import free_port, start, stop

PLAYGROUND = os.environ.get("REGIE_TEST_PLAYGROUND", "")

pytestmark = pytest.mark.skipif(
    not PLAYGROUND,
    reason="Agents Playground not installed: set REGIE_TEST_PLAYGROUND (.ci/run does)",
)


def wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not come up")


async def say_hi(base: str) -> dict:
    async with aiohttp.ClientSession() as http:
        config = (await (await http.get(f"{base}/_internal/v1/config")).json())["config"]
        chat, user = config["personalChat"]["id"], config["currentUser"]["id"]
        async with http.ws_connect(
            base.replace("http", "ws") + "/_ws_conversation/v1/conversations/stream"
        ) as ws:
            sent = await http.post(
                f"{base}/_conversation/v1/conversations/{chat}/messages",
                json={"from": {"id": user}, "text": "hi", "textFormat": "plain"},
            )
            assert sent.status == 200, await sent.text()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                message = await asyncio.wait_for(ws.receive(), timeout=30)
                data = json.loads(message.data).get("message", {})
                for attachment in data.get("attachments") or []:
                    if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
                        return dict(attachment["content"])
    raise AssertionError("no card came back")


def test_a_message_from_the_playground_gets_a_card_back(tmp_path: Path, db_url: str) -> None:
    regie, regie_url = start(db_url, {"REGIE_TEAMS_ALLOW_UNAUTHENTICATED": "true"})
    port = free_port()
    playground = subprocess.Popen(
        [PLAYGROUND, "-e", f"{regie_url}/api/messages", "-c", "msteams", "-p", str(port), "--dt"],
        env=os.environ | {"TEAMSAPPTESTER_BROWSER": "none"},
        cwd=tmp_path,  # it writes devTools/ logs into its working directory
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/_internal/v1/config")
        card = asyncio.run(say_hi(base))
        assert card["version"] == "1.5"
        assert "I'm Regie" in json.dumps(card, ensure_ascii=False)
        assert any(a["data"].get("value") == "nl" for a in card["actions"])  # the language buttons
    finally:
        playground.terminate()
        playground.communicate(timeout=30)
        stop(regie)
