"""A local fake of the Slack Web API, for tests that drive the real ``slack_sdk.WebClient``.

    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url)
        client.chat_postMessage(channel="D1", text="hi")
        assert fake.calls_to("chat.postMessage")[0]["text"] == "hi"

How ``slack_sdk`` sends requests (the fake accepts all of these):

* The sync ``WebClient`` always POSTs, even for methods it marks as GET (``users.info``,
  ``users.list``, ``users.lookupByEmail``); their arguments go in an
  ``application/x-www-form-urlencoded`` body, never in the query string.
* ``chat.*`` and ``views.*`` are sent as ``application/json``; most other methods as a form, where
  every value is a string: ``limit=2`` arrives as ``"2"``, ``True``/``False`` as ``"1"``/``"0"``,
  and list/dict arguments as JSON text (decoded here when they start with ``[`` or ``{``).
* The ``AsyncWebClient`` (aiohttp) honours GET and puts ``params`` in the query string, so query
  parameters are merged in too (body values win).
* The token travels in the ``Authorization: Bearer`` header, not in the parameters.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.bot.fake_limits import Throttle
from tests.bot.fake_server import LocalServer

BOT_SCOPES = ("chat:write", "im:history", "commands", "users:read", "users:read.email")
_FIRST_TS_MICROS = 1_700_000_000_000_000


class FakeSlack(LocalServer):
    """A tiny threaded HTTP server on 127.0.0.1:<free port> that records Web API calls."""

    def __init__(
        self, users: dict[str, dict[str, Any]] | None = None, users_page_size: int = 2
    ) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.users: dict[str, dict[str, Any]] = dict(users or {})
        self.users_page_size = users_page_size
        self.scopes: tuple[str, ...] = BOT_SCOPES  # sent as the x-oauth-scopes response header
        self._lock = threading.Lock()
        self._failures: dict[str, list[str]] = {}
        self._messages = 0
        self.history: dict[str, list[dict[str, Any]]] = {}
        """Messages posted per channel (a user id counts as that user's DM, ``D<user>``)."""
        self.throttle: Throttle | None = None
        """When set, chat.postMessage is rate limited (429) and fails now and then (500)."""
        self.latency = 0.0
        """Seconds every chat.postMessage takes (for crash tests)."""

    path = "/api/"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # -- what tests ask --------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call to ``method`` so far, oldest first."""
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until ``method`` was called at least ``count`` times; return those calls."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(method)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                with self._lock:
                    seen = "\n".join(f"  {name} {params!r}" for name, params in self.calls)
                raise AssertionError(
                    f"expected {count} call(s) to {method} within {timeout}s, got {len(found)}; "
                    f"calls seen:\n{seen or '  (none)'}"
                )
            time.sleep(0.01)

    def fail_next(self, method: str, error: str) -> None:
        """Make the next call to ``method`` answer ``{"ok": false, "error": error}``."""
        with self._lock:
            self._failures.setdefault(method, []).append(error)

    # -- the API ---------------------------------------------------------------------------------

    def handle(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Record one call and answer it as Slack would (called from the server threads)."""
        ts = ""
        with self._lock:
            self.calls.append((method, params))
            failures = self._failures.get(method)
            if failures:
                return {"ok": False, "error": failures.pop(0)}
            if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
                self._messages += 1
                micros = max(_FIRST_TS_MICROS, int(time.time() * 1_000_000)) + self._messages
                ts = f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
            by_id = dict(self.users)
        users = list(by_id.values())
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "regie",
                "team_id": "T1",
                "user_id": "UBOT",
                "bot_id": "BBOT",
            }
        if method == "chat.postMessage":
            if self.latency:
                time.sleep(self.latency)
            message = _message(params, ts)
            channel = str(params.get("channel", ""))
            channel = "D" + channel if channel.startswith("U") else channel
            with self._lock:
                self.history.setdefault(channel, []).append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "conversations.history":
            with self._lock:
                posted = list(self.history.get(str(params.get("channel")), []))
            oldest = float(params.get("oldest") or 0)
            newest_first = [m for m in reversed(posted) if float(m["ts"]) >= oldest]
            return {"ok": True, "messages": newest_first[: int(params.get("limit") or 100)]}
        if method == "chat.update":
            ts = str(params.get("ts", ts))
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "text": params.get("text", ""),
                "message": _message(params, ts),
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method in ("views.publish", "views.open"):
            return {"ok": True, "view": {"id": "V1", **_as_dict(params.get("view"))}}
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": _im_channel(params)}}
        if method == "users.info":
            user = by_id.get(str(params.get("user")))
            if user is None:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": user}
        if method == "users.list":
            return self._users_page(users, params)
        if method == "users.lookupByEmail":
            email = str(params.get("email", "")).lower()
            for user in users:
                if str(user.get("profile", {}).get("email", "")).lower() == email:
                    return {"ok": True, "user": user}
            return {"ok": False, "error": "users_not_found"}
        return {"ok": True}

    def _users_page(self, users: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
        cursor = str(params.get("cursor") or "")
        try:
            start = int(cursor.removeprefix("next:")) if cursor else 0
        except ValueError:
            return {"ok": False, "error": "invalid_cursor"}
        size = self.users_page_size
        if params.get("limit") not in (None, "", 0, "0"):
            size = min(size, int(params["limit"]))
        page = users[start : start + size]
        more = start + size < len(users)
        return {
            "ok": True,
            "members": page,
            "cache_ts": int(time.time()),
            "response_metadata": {"next_cursor": f"next:{start + size}" if more else ""},
        }


# -- HTTP plumbing -------------------------------------------------------------------------------


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self._answer()

        def do_GET(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self) -> None:
            parts = urlsplit(self.path)
            if not parts.path.startswith("/api/"):
                self._send(404, {"ok": False, "error": "unknown_path"})
                return
            method = parts.path.removeprefix("/api/")
            params = _form(parts.query)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type", "")
            if body and content_type.startswith("application/json"):
                params.update(json.loads(body))
            elif body:  # application/x-www-form-urlencoded (or no declared type)
                params.update(_form(body.decode("utf-8")))
            refused = (
                fake.throttle.check() if fake.throttle and method == "chat.postMessage" else None
            )
            if refused == 429:
                self._send(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
            elif refused is not None:
                self._send(refused, {"ok": False, "error": "internal_error"})
            else:
                self._send(200, fake.handle(method, params))

        def _send(
            self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode("utf-8")
            try:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-oauth-scopes", ",".join(fake.scopes))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client died mid-request (the crash tests kill it on purpose)

    return Handler


def _form(text: str) -> dict[str, Any]:
    """Form or query-string parameters; values that look like JSON objects/arrays are decoded."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        params[key] = _maybe_json(value)
    return params


def _maybe_json(value: str) -> Any:
    if value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _message(params: dict[str, Any], ts: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "type": "message",
        "user": "UBOT",
        "bot_id": "BBOT",
        "text": params.get("text", ""),
        "ts": ts,
    }
    for key in ("blocks", "attachments", "thread_ts", "metadata"):
        if key in params:
            message[key] = params[key]
    return message


def _im_channel(params: dict[str, Any]) -> str:
    if params.get("channel"):
        return str(params["channel"])
    users = [u for u in str(params.get("users", "")).split(",") if u]
    if len(users) == 1:
        return "D" + users[0]
    return "G" + "".join(users)
