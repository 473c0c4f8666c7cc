"""End to end through the Microsoft 365 Agents Playground (a local Teams-like client): messages
and card submits go from the Playground to ``regie serve``, and what comes back is read from the
Playground's own conversation stream, as its web client shows it.

Needs the Playground (npm ``@microsoft/m365agentsplayground``): ``.ci/run`` installs it and sets
``REGIE_TEST_PLAYGROUND`` to its ``agentsplayground`` command; without it these tests skip. With
``REGIE_TEST_CAPTURES`` set to a directory, each test writes what the Playground showed there,
as ``<test name>.json``."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.bot.sync_helpers import responds, wait_until
from tests.bot.test_serve import free_port, start, stop

PLAYGROUND = os.environ.get("REGIE_TEST_PLAYGROUND", "")
CARD = "application/vnd.microsoft.card.adaptive"
MAX_ACTIVITY_BYTES = 28 * 1024
QUIET = 1.5
"""Seconds without news after which a turn's messages are taken to be all there is."""

pytestmark = pytest.mark.skipif(
    not PLAYGROUND,
    reason="Agents Playground not installed: set REGIE_TEST_PLAYGROUND (.ci/run does)",
)


def wait_for(url: str, timeout: float = 60) -> None:
    if not wait_until(lambda: responds(url), timeout=timeout):
        raise AssertionError(f"{url} did not come up")


@contextmanager
def playground(tmp_path: Path, db_url: str, timezone: str = "UTC") -> Iterator[str]:
    """``regie serve`` (Teams without authentication) and the Playground in front of it, its
    browser off and its clock in ``timezone`` (what it reports as the client's time zone)."""
    regie, regie_url = start(db_url, {"REGIE_TEAMS_ALLOW_UNAUTHENTICATED": "true"})
    port = free_port()
    process = subprocess.Popen(
        [PLAYGROUND, "-e", f"{regie_url}/api/messages", "-c", "msteams", "-p", str(port), "--dt"],
        env=os.environ | {"TEAMSAPPTESTER_BROWSER": "none", "TZ": timezone},
        cwd=tmp_path,  # it writes devTools/ logs into its working directory
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(f"{base}/_internal/v1/config")
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=30)
        stop(regie)


def utf16_size(message: dict[str, Any]) -> int:
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-16-le"))


def card_of(message: dict[str, Any]) -> dict[str, Any]:
    [attachment] = message["attachments"]
    assert attachment["contentType"] == CARD
    return dict(attachment["content"])


def texts(card: dict[str, Any]) -> list[str]:
    return [e["text"] for e in card["body"] if e["type"] == "TextBlock"]


@dataclass
class Chat:
    """The personal chat as the Playground's web client sees it: every message the bot
    created or updated, in order."""

    http: aiohttp.ClientSession
    ws: aiohttp.ClientWebSocketResponse
    base: str
    chat: str
    user: str
    bot: str
    events: list[dict[str, Any]] = field(default_factory=list)

    async def say(self, text: str) -> Turn:
        sent = await self.http.post(
            f"{self.base}/_conversation/v1/conversations/{self.chat}/messages",
            json={"from": {"id": self.user}, "text": text, "textFormat": "plain"},
        )
        assert sent.status == 200, await sent.text()
        return await self.turn(lambda turn: bool(turn.created))

    async def tap(self, message: dict[str, Any], value: Any) -> Turn:
        """Press the card's button that answers ``value``."""
        data = next(
            a["data"]
            for a in card_of(message).get("actions", [])
            if a["data"].get("value") == value
        )
        sent = await self.http.post(
            f"{self.base}/_conversation/v1/submit",
            json={
                "conversation": {"id": self.chat},
                "from": {"id": self.user},
                "replyToId": message["messageId"],
                "value": data,
            },
        )
        assert sent.status == 200, await sent.text()
        return await self.turn(lambda turn: bool(turn.created and turn.updated))

    async def execute(
        self, message: dict[str, Any], value: Any, verb: str = "", *, replied: bool = True
    ) -> Execute:
        """Press the card's ``Action.Execute`` that answers ``value`` as the Playground's web
        client does (``verb="refresh"``: ask for the card again, as its refresh does): the
        invoke's answer and what the bot showed besides (``replied``: wait for a message)."""
        card = card_of(message)
        if verb:
            action = card["refresh"]["action"]
        else:
            action = next(a for a in card["actions"] if a["data"].get("value") == value)
        assert action["type"] == "Action.Execute"
        sent = await self.http.post(
            f"{self.base}/_conversation/v1/invoke",
            json={
                "name": "adaptiveCard/action",
                "conversation": {"id": self.chat},
                "from": {"id": self.user},
                "replyToId": message["messageId"],
                "value": {
                    "action": {
                        "type": "Action.Execute",
                        "title": action.get("title", ""),
                        "verb": action["verb"],
                        "data": action["data"],
                    }
                },
            },
        )
        assert sent.status == 200, await sent.text()
        answer = await sent.json()
        assert utf16_size(answer) <= MAX_ACTIVITY_BYTES, utf16_size(answer)
        waiting = replied and not verb
        turn = await self.turn(lambda turn: bool(turn.created) or not waiting, waiting=waiting)
        return Execute(answer, turn)

    async def turn(self, done: Callable[[Turn], bool], *, waiting: bool = True) -> Turn:
        """What the bot showed in answer: until ``done`` and then :data:`QUIET` seconds of
        nothing more (so a message too many would be seen)."""
        turn = Turn()
        deadline = time.monotonic() + (30 if waiting else QUIET)
        while time.monotonic() < deadline:
            wait = QUIET if done(turn) else deadline - time.monotonic()
            try:
                received = await asyncio.wait_for(self.ws.receive(), timeout=max(wait, 0.1))
            except TimeoutError:
                if done(turn):
                    return turn
                continue
            event = json.loads(received.data)
            message = event.get("message") or {}
            if (message.get("from") or {}).get("id") != self.bot:
                continue
            self.events.append(event)
            assert utf16_size(message) <= MAX_ACTIVITY_BYTES, utf16_size(message)
            if event.get("action") == "createMessage":
                turn.created.append(message)
            elif event.get("action") == "updateMessage":
                turn.updated.append(message)
        if not waiting and done(turn):
            return turn
        raise AssertionError(f"the bot did not answer in time: {self.events[-3:]}")


@dataclass
class Turn:
    created: list[dict[str, Any]] = field(default_factory=list)
    updated: list[dict[str, Any]] = field(default_factory=list)

    def one_card(self) -> dict[str, Any]:
        """The turn's one message: a card and nothing else (no text bubble above it)."""
        assert len(self.created) == 1, [m.get("text") or "card" for m in self.created]
        [message] = self.created
        assert not message.get("text"), message.get("text")
        card_of(message)
        return message


@dataclass
class Execute:
    answer: dict[str, Any]
    """The invoke's answer as the Playground passes it on (``type``, ``value``)."""
    turn: Turn


@asynccontextmanager
async def chat(base: str, capture: str) -> AsyncIterator[Chat]:
    async with aiohttp.ClientSession() as http:
        config = (await (await http.get(f"{base}/_internal/v1/config")).json())["config"]
        async with http.ws_connect(
            base.replace("http", "ws") + "/_ws_conversation/v1/conversations/stream"
        ) as ws:
            talk = Chat(
                http,
                ws,
                base,
                config["personalChat"]["id"],
                config["currentUser"]["id"],
                config["bot"]["id"],
            )
            try:
                yield talk
            finally:
                folder = os.environ.get("REGIE_TEST_CAPTURES")
                if folder:
                    path = Path(folder) / f"{capture}.json"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(talk.events, indent=2, ensure_ascii=False) + "\n")


def test_a_message_from_the_playground_gets_a_card_back(tmp_path: Path, db_url: str) -> None:
    async def converse(base: str) -> None:
        async with chat(base, "test_a_message_from_the_playground_gets_a_card_back") as talk:
            card = card_of((await talk.say("hi")).one_card())
            assert card["version"] == "1.5"
            assert "I'm Regie" in json.dumps(card, ensure_ascii=False)
            assert any(a["data"].get("value") == "nl" for a in card["actions"])

    with playground(tmp_path, db_url) as base:
        asyncio.run(converse(base))


def test_one_card_per_reply_with_lines_lists_and_a_settled_card_that_keeps_its_text(
    tmp_path: Path, db_url: str
) -> None:
    """Issue 15, items 1, 2, 4 (and 6, 8) as the Playground shows them: each reply is one
    message holding a card (before: a run-on text message above a card saying the same); the
    privacy promise and help keep their lines as real lists; a tapped card keeps its text and
    shows the answer; a question answered by typing settles its card too; the welcome proposes
    the Playground's own time zone."""

    async def converse(base: str) -> None:
        name = "test_one_card_per_reply_with_lines_lists_and_a_settled_card_that_keeps_its_text"
        async with chat(base, name) as talk:
            welcome = (await talk.say("hi")).one_card()
            blocks = texts(card_of(welcome))
            promise = next(text for text in blocks if "private to you" in text)
            assert promise.startswith("- ") and promise.count("\r- ") == 3  # a real list
            assert "\n\n" in blocks[0]  # the welcome's two lines, as two lines

            tapped = await talk.tap(welcome, "en")
            [settled] = tapped.updated
            assert settled["messageId"] == welcome["messageId"]
            kept = json.dumps(card_of(settled), ensure_ascii=False)
            assert "I'm Regie" in kept and "private to you" in kept and "✓ English" in kept
            assert "actions" not in card_of(settled)
            timezone = tapped.one_card()
            assert "Asia/Tokyo" in json.dumps(card_of(timezone))  # item 8: the client's zone

            helped = (await talk.say("help")).one_card()
            commands = next(t for t in texts(card_of(helped)) if t.startswith("- reflect"))
            assert commands.count("\r- ") >= 8  # one line per command

            typed = await talk.say("yes")  # answers the time zone question by typing
            assert {m["messageId"] for m in typed.updated} == {
                timezone["messageId"],
                helped["messageId"],  # the same question, asked again under the help
            }
            for message in typed.updated:
                assert "✓ Yes" in json.dumps(card_of(message), ensure_ascii=False)
            typed.one_card()

    with playground(tmp_path, db_url, timezone="Asia/Tokyo") as base:
        asyncio.run(converse(base))


def test_universal_actions_settle_the_card_in_place_and_refresh_a_closed_one(
    tmp_path: Path, db_url: str
) -> None:
    """Issue 15, item 7: an ``Action.Execute`` press is answered with the card settled (the
    Playground shows it in place of the pressed one) and the next question comes as one new
    message; a refresh of a card whose question has closed comes back settled, of an open
    one as it is; nothing over 28 KB."""

    async def converse(base: str) -> None:
        name = "test_universal_actions_settle_the_card_in_place_and_refresh_a_closed_one"
        async with chat(base, name) as talk:
            welcome = (await talk.say("hi")).one_card()
            refreshed = await talk.execute(welcome, None, verb="refresh")
            assert refreshed.answer["value"] == card_of(welcome)  # open: as it is
            assert not refreshed.turn.created and not refreshed.turn.updated

            pressed = await talk.execute(welcome, "en")
            assert pressed.answer["type"] == CARD
            settled = pressed.answer["value"]
            kept = json.dumps(settled, ensure_ascii=False)
            assert "I'm Regie" in kept and "✓ English" in kept
            assert "actions" not in settled and "refresh" not in settled
            timezone = pressed.turn.one_card()  # the next question, one message
            assert not pressed.turn.updated  # the pressed card was answered in place

            again = await talk.execute(welcome, None, verb="refresh")
            assert again.answer["value"] == settled  # closed: settled
            stale = await talk.execute(welcome, "nl", replied=False)  # answered, runs nothing
            assert stale.answer["value"] == settled and not stale.turn.created
            assert "Asia/Tokyo" in json.dumps(card_of(timezone))

    with playground(tmp_path, db_url, timezone="Asia/Tokyo") as base:
        asyncio.run(converse(base))
