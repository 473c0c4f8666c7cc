"""Drive the real botbuilder CloudAdapter over HTTP (unauthenticated mode): Bot Framework
activities posted to ``/api/messages`` whose ``serviceUrl`` is a local fake connector."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.bot.teams_fake import FakeConnector

BOT = {"id": "28:regie-bot", "name": "Regie"}


@dataclass
class TeamsClient:
    """What Teams does: posts activities for one user's personal chat."""

    url: str
    connector: FakeConnector
    user: dict[str, Any] = field(
        default_factory=lambda: {"id": "29:noor", "name": "Noor Jansen", "aadObjectId": "aad-noor"}
    )
    conversation: str = "a:personal-noor"
    locale: str = "en-US"
    timezone: str = "Europe/Amsterdam"
    counter: int = 0
    seen: int = 0

    def post(self, activity: dict[str, Any]) -> int:
        return self.exchange(activity)[0]

    def exchange(self, activity: dict[str, Any]) -> tuple[int, Any]:
        """Post ``activity``; the HTTP status of the answer and its JSON body (None if empty)."""
        request = urllib.request.Request(
            f"{self.url}/api/messages",
            data=json.dumps(activity).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                status, raw = int(response.status), response.read()
        except urllib.error.HTTPError as error:
            status, raw = int(error.code), error.read()
        return status, json.loads(raw) if raw.strip() else None

    def activity(self, **fields: Any) -> dict[str, Any]:
        self.counter += 1
        return {
            "type": "message",
            "id": f"in-{self.counter}",
            "channelId": "msteams",
            # When the client sent it, as Teams does; nothing reads it (turns take their time
            # from the runtime's injected clock).
            "timestamp": datetime.now(UTC).isoformat(),  # clock-ok
            "serviceUrl": self.connector.url,
            "from": self.user,
            "recipient": BOT,
            "locale": self.locale,
            "localTimezone": self.timezone,
            "conversation": {
                "id": self.conversation,
                "conversationType": "personal",
                "tenantId": "tenant-1",
            },
            "channelData": {"tenant": {"id": "tenant-1"}},
        } | fields

    def say(self, text: str, **fields: Any) -> int:
        return self.post(self.activity(text=text, **fields))

    def install(self, **fields: Any) -> int:
        return self.post(
            self.activity(type="conversationUpdate", membersAdded=[BOT, self.user]) | fields
        )

    def submit(
        self, card_activity: dict[str, Any], data: dict[str, Any], *, activity_id: str | None = None
    ) -> int:
        """Submit a card the bot sent: ``data`` is what the pressed action (plus inputs) carried."""
        return self.post(self.activity(value=data, replyToId=activity_id or card_activity["_id"]))

    def execute_activity(
        self,
        card_activity: dict[str, Any],
        data: dict[str, Any],
        *,
        verb: str = "answer",
        activity_id: str | None = None,
        trigger: str = "manual",
    ) -> dict[str, Any]:
        """The ``adaptiveCard/action`` invoke Teams sends for an ``Action.Execute`` on a card
        the bot sent (``data``: the action's data, inputs merged in), or for its refresh."""
        action = {"type": "Action.Execute", "verb": verb, "data": data}
        return self.activity(
            type="invoke",
            name="adaptiveCard/action",
            replyToId=activity_id or card_activity["_id"],
            value={"action": action, "trigger": trigger},
        )

    def invoke(self, activity: dict[str, Any]) -> dict[str, Any]:
        """Post an invoke and return the invoke response's body, held to Teams' contract."""
        status, body = self.exchange(activity)
        return self.connector.invoke_answered(status, body)

    def execute(
        self,
        card_activity: dict[str, Any],
        data: dict[str, Any],
        *,
        activity_id: str | None = None,
    ) -> dict[str, Any]:
        """Press an ``Action.Execute`` on a card the bot sent: the card Teams shows in its place
        (the invoke response's ``value``)."""
        answer = self.invoke(self.execute_activity(card_activity, data, activity_id=activity_id))
        assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
        return dict(answer["value"])

    def refresh(self, card_activity: dict[str, Any]) -> dict[str, Any]:
        """What Teams does when it shows a card with a ``refresh``: the card to show instead."""
        refresh = card_of(card_activity)["refresh"]
        assert refresh["userIds"] == [self.user["id"]], refresh
        action = refresh["action"]
        activity = self.execute_activity(
            card_activity, action["data"], verb=action["verb"], trigger="automatic"
        )
        answer = self.invoke(activity)
        assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
        return dict(answer["value"])

    def next_sent(self, timeout: float = 20.0) -> dict[str, Any]:
        self.seen += 1
        return self.connector.wait_sent(self.seen, timeout)[self.seen - 1]


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    [attachment] = activity["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    return dict(attachment["content"])


def action(card: dict[str, Any], value: Any) -> dict[str, Any]:
    """The data of the button that answers ``value`` (an ``Action.Execute`` whose fallback, the
    ``Action.Submit`` older clients press, carries the same)."""
    for candidate in card.get("actions", []):
        if candidate["type"] == "Action.Execute" and candidate["data"].get("value") == value:
            assert candidate["fallback"]["type"] == "Action.Submit"
            assert candidate["fallback"]["data"] == candidate["data"]
            return dict(candidate["data"])
    raise AssertionError(f"no button for {value!r} in {json.dumps(card)[:2000]}")


def with_input(card: dict[str, Any], answer: Any) -> dict[str, Any]:
    """The data of the Send button, with the card's input filled in."""
    send = next(a for a in card["actions"] if "value" not in a["data"])
    return dict(send["data"]) | {"answer": answer}


def shown(activity: dict[str, Any]) -> str:
    """What a person reads of an activity: its card's text (markdown escapes removed), or its
    plain text."""
    if activity.get("attachments"):
        return re.sub(r"\\(.)", r"\1", card_text(card_of(activity)))
    return str(activity.get("text", ""))


def card_text(card: dict[str, Any]) -> str:
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title"):
                if isinstance(node.get(key), str):
                    parts.append(node[key])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(parts)


def run(loop: asyncio.AbstractEventLoop, coroutine: Any) -> Any:
    return asyncio.run_coroutine_threadsafe(coroutine, loop).result(timeout=30)
