"""Drive the real Bolt app over HTTP: signed requests into ``regie serve``'s web app, running on
a local port, with the real ``slack_sdk`` client talking to a local fake Slack Web API."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from tests.bot.slack_fake import FakeSlack

SIGNING_SECRET = "test-signing-secret"


class WebServer:
    """An aiohttp app on 127.0.0.1:<free port>, in a thread of its own."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(app)
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.url = ""

    def start(self) -> WebServer:
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self.thread.start()
        return self

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@dataclass
class Response:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class SlackClient:
    """What Slack itself does: signs and posts events, interactions and slash commands."""

    url: str
    fake: FakeSlack
    secret: str = SIGNING_SECRET
    counter: int = 0
    seen_messages: int = field(default=0)

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        ts = str(timestamp if timestamp is not None else int(time.time()))
        sig = signature or SignatureVerifier(self.secret).generate_signature(
            timestamp=ts, body=body
        )
        request = urllib.request.Request(
            f"{self.url}/slack/events",
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sig,
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return Response(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode())

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, **kwargs: Any
    ) -> Response:
        self.counter += 1
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": event_id or f"Ev{self.counter:04d}",
                "event_time": int(time.time()),
                "event": event,
            }
        )
        return self.post(body, "application/json", **kwargs)

    def dm(self, user: str, text: str, **kwargs: Any) -> Response:
        self.counter += 1
        return self.event(
            {
                "type": "message",
                "channel_type": "im",
                "channel": f"D{user}",
                "user": user,
                "text": text,
                "ts": f"{time.time():.6f}",
                "client_msg_id": f"m{self.counter}",
            },
            **kwargs,
        )

    def interaction(self, payload: dict[str, Any]) -> Response:
        return self.post(
            urllib.parse.urlencode({"payload": json.dumps(payload)}),
            "application/x-www-form-urlencoded",
        )

    def command(self, user: str, text: str, *, channel: str | None = None) -> Response:
        """``/regie text`` typed in ``channel`` (default: the user's DM with the bot)."""
        self.counter += 1
        form = {
            "command": "/regie",
            "text": text,
            "user_id": user,
            "team_id": "T1",
            "channel_id": channel or f"D{user}",
            "trigger_id": f"trig{self.counter}",
            "response_url": f"{self.fake.url}response",
        }
        return self.post(urllib.parse.urlencode(form), "application/x-www-form-urlencoded")

    # -- reading what the bot sent ------------------------------------------------------

    def next_message(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next chat.postMessage the bot made, in order."""
        self.seen_messages += 1
        return self.fake.wait_for("chat.postMessage", self.seen_messages, timeout)[
            self.seen_messages - 1
        ]

    def click(
        self, user: str, message: dict[str, Any], value: Any, *, ts: str = "1700000000.000100"
    ) -> Response:
        """Click the answer button with this value in a message the bot posted."""
        for block in message["blocks"]:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element.get("value") == json.dumps(value):
                    return self.interaction(
                        self._action(user, message, block, element | {"type": "button"}, ts)
                    )
                for option in element.get("options", []):
                    if option["value"] == json.dumps(value):
                        chosen = element | {"type": "static_select", "selected_option": option}
                        return self.interaction(self._action(user, message, block, chosen, ts))
        raise AssertionError(f"no button with value {value!r} in {json.dumps(message['blocks'])}")

    def open_modal(self, user: str, message: dict[str, Any]) -> dict[str, Any]:
        """Press "Write a longer answer" on a message: the modal Slack was asked to open."""
        block, button = self.element(message, "regie:modal")
        opened = len(self.fake.calls_to("views.open"))
        self.interaction(
            self._action(user, message, block, button | {"type": "button"}, "1700000000.000300")
        )
        return self.fake.wait_for("views.open", opened + 1)[opened]

    def submit_modal(self, user: str, modal: dict[str, Any], text: str) -> Response:
        """Submit the long-answer modal with ``text``: Slack's answer to the submission."""
        self.counter += 1
        return self.interaction(
            {
                "type": "view_submission",
                "user": {"id": user},
                "trigger_id": f"trig{self.counter}",
                "view": {
                    "id": f"V{self.counter}",
                    "type": "modal",
                    "hash": f"h{self.counter}",
                    "callback_id": "regie:long",
                    "private_metadata": modal["view"]["private_metadata"],
                    "state": {
                        "values": {"answer": {"text": {"type": "plain_text_input", "value": text}}}
                    },
                },
            }
        )

    def pick_date(self, user: str, message: dict[str, Any], iso: str) -> Response:
        block = next(b for b in message["blocks"] if b["type"] == "actions")
        element = next(e for e in block["elements"] if e["type"] == "datepicker")
        return self.interaction(
            self._action(
                user, message, block, element | {"selected_date": iso}, "1700000000.000200"
            )
        )

    def element(
        self, message: dict[str, Any], action_id: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        for block in message["blocks"]:
            for element in block.get("elements", []) if block["type"] == "actions" else []:
                if element.get("action_id") == action_id:
                    return block, element
        raise AssertionError(f"no element {action_id} in {message['blocks']}")

    def _action(
        self,
        user: str,
        message: dict[str, Any],
        block: dict[str, Any],
        element: dict[str, Any],
        ts: str,
    ) -> dict[str, Any]:
        self.counter += 1
        action = {k: v for k, v in element.items() if k not in ("options", "placeholder")}
        action |= {"block_id": block["block_id"], "action_ts": f"{time.time():.6f}{self.counter}"}
        return {
            "type": "block_actions",
            "user": {"id": user},
            "api_app_id": "A1",
            "team": {"id": "T1"},
            "trigger_id": f"trig{self.counter}",
            "container": {"type": "message", "message_ts": ts, "channel_id": message["channel"]},
            "channel": {"id": message["channel"]},
            "message": {"ts": ts, "blocks": message["blocks"]},
            "actions": [action],
        }


def text_of(message: dict[str, Any]) -> str:
    """Everything readable in a posted message: the fallback text and all block texts."""
    parts = [message.get("text", "")]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return "\n".join(parts)
