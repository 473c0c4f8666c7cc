"""A local OpenAI-compatible server: ``POST /v1/chat/completions`` with a ``usage`` block.

It records every request body, so tests can check exactly what would have left the building,
and can be told to answer slowly (past the client's timeout) or with HTTP 500. ``received`` is
set when a request has arrived (a positive signal that a model call is under way); with a
``delay``, ``release()`` lets the waiting requests answer at once."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.bot.fake_server import LocalServer

Reply = Callable[[dict[str, Any]], str]


class FakeOpenAI(LocalServer):
    path = "/v1"

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.reply: Reply = lambda body: "What did that teach you?"
        self.status = 200
        self.delay = 0.0
        self.usage = (120, 15)
        self.received = threading.Event()
        """Set once a request has arrived (and is, with a ``delay``, being held)."""
        self._released = threading.Event()
        self._lock = threading.Lock()

    def release(self) -> None:
        """Answer requests held by ``delay`` now (and every later one without waiting)."""
        self._released.set()

    def answer(self, text: str | Reply) -> None:
        self.reply = text if callable(text) else (lambda body: text)

    @property
    def sent(self) -> str:
        """Every request body as one string: what left, for "never contains" checks."""
        return "\n".join(json.dumps(r, ensure_ascii=False) for r in self.requests)

    def user_texts(self) -> list[str]:
        return [m["content"] for r in self.requests for m in r["messages"] if m["role"] == "user"]

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake._lock:
                    fake.requests.append(body)
                    fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                fake.received.set()
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": "not found", "type": "invalid"}})
                    return
                if fake.delay:
                    fake._released.wait(fake.delay)
                if fake.status != 200:
                    self._send(fake.status, {"error": {"message": "boom", "type": "server"}})
                    return
                prompt, completion = fake.usage
                self._send(
                    200,
                    {
                        "id": f"chatcmpl-{len(fake.requests)}",
                        "object": "chat.completion",
                        "created": int(time.time()),
                        "model": body.get("model", "fake"),
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": fake.reply(body)},
                                "finish_reason": "stop",
                            }
                        ],
                        "usage": {
                            "prompt_tokens": prompt,
                            "completion_tokens": completion,
                            "total_tokens": prompt + completion,
                        },
                    },
                )

            def _send(self, status: int, data: dict[str, Any]) -> None:
                raw = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler
