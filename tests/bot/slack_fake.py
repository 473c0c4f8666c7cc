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

The platform contract the fake enforces, answered exactly as Slack answers (HTTP 200 with
``"ok": false``), recorded in :attr:`FakeSlack.violations`, and — unless the fake was made with
``strict=False`` — raised as an ``AssertionError`` when the fake stops, because the product
often only logs a failed call:

* **Scopes**: the bot token holds the scopes ``manifest.json`` requests
  (``oauth_config.scopes.bot``); a method outside them answers ``missing_scope`` with
  ``needed`` and ``provided`` (see :data:`METHOD_SCOPES`). ``users.info``/``users.list`` leave
  ``profile.email`` out without ``users:read.email``, as Slack does.
* A method not in :data:`METHOD_SCOPES` answers ``unknown_method``; no token, ``not_authed``.
* Sizes (:data:`MESSAGE_TEXT_LIMIT`, :data:`MESSAGE_BLOCKS_LIMIT`, :data:`VIEW_BLOCKS_LIMIT` and
  the per-block limits in :func:`block_problems`): a message's blocks answer ``invalid_blocks``,
  a view's ``invalid_arguments``, both with Slack's ``[ERROR] … [json-pointer:…]`` lines in
  ``response_metadata.messages``; ``text`` over 40,000 characters answers ``msg_too_long``.

Channels: posting to a channel (``C…``/``G…``) outside :attr:`FakeSlack.member_of` answers
``not_in_channel``; ``chat.delete`` deletes only the bot's own messages (another's answers
``cant_delete_message``, one not there ``message_not_found``). These are the world's state,
not a broken contract, so they are not recorded as violations.

Besides: ``fail_next`` (the next call answers an error), ``throttle``/``throttles`` (429 with
``Retry-After`` and some 500s, for ``chat.postMessage`` or any method), ``latency``, and a DM
history that ``conversations.history`` pages through newest first (``has_more``, cursor).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.bot.fake_limits import Throttle
from tests.bot.fake_server import LocalServer
from tests.bot.sync_helpers import wait_until

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.json"
_FIRST_TS_MICROS = 1_700_000_000_000_000


def manifest_scopes(path: Path = MANIFEST) -> tuple[str, ...]:
    """The bot scopes the Slack app manifest requests: what an installed bot token holds."""
    manifest = json.loads(path.read_text(encoding="utf-8"))
    return tuple(manifest["oauth_config"]["scopes"]["bot"])


# -- the scope each Web API method needs (bot tokens) ------------------------------------------
#
# From each method's page, https://docs.slack.dev/reference/methods/<method> ("Required
# scopes", bot token), and the scope pages' "Compatible API methods". Conversation methods need
# the scope of the kind of conversation they touch: DM (im), group DM (mpim), private channel
# (groups) or public channel (channels).

ScopeRule = str | None | Callable[[dict[str, Any]], str]


def _conversation_kind(channel: str) -> str:
    """Slack ids tell the kind: D… a DM, G… a private channel or group DM, C… a channel."""
    return {"D": "im", "G": "groups", "C": "channels"}.get(channel[:1], "channels")


def _history_scope(params: dict[str, Any]) -> str:
    return f"{_conversation_kind(str(params.get('channel', '')))}:history"


def _open_scope(params: dict[str, Any]) -> str:
    """conversations.open: ``im:write`` for a 1:1 DM, ``mpim:write`` for a group DM."""
    if params.get("channel"):
        return "im:write" if str(params["channel"]).startswith("D") else "mpim:write"
    users = [u for u in str(params.get("users", "")).split(",") if u]
    return "im:write" if len(users) <= 1 else "mpim:write"


METHOD_SCOPES: dict[str, ScopeRule] = {
    "auth.test": None,  # any token
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write",
    "chat.delete": "chat:write",
    "conversations.open": _open_scope,  # channels:manage | groups:write | im:write | mpim:write
    "conversations.history": _history_scope,  # channels|groups|im|mpim:history
    "conversations.replies": _history_scope,
    "users.info": "users:read",
    "users.list": "users:read",
    "users.lookupByEmail": "users:read.email",
    "views.publish": None,  # views.* need no scope, only a bot token (and a trigger_id)
    "views.open": None,
    "views.update": None,
    "views.push": None,
}
"""Every method Regie calls (and a few neighbours), with the bot scope it needs."""

DM_EXAMPLE = {"channel": "DU1", "users": "U1"}
"""Parameters for a DM, the only kind of conversation Regie uses (for :func:`needed_scope`)."""


def needed_scope(method: str, params: dict[str, Any] | None = None) -> str | None:
    """The bot scope ``method`` needs for a call with ``params`` (a DM when not given)."""
    rule = METHOD_SCOPES[method]
    return rule(params if params is not None else DM_EXAMPLE) if callable(rule) else rule


# -- size limits, https://docs.slack.dev/reference/block-kit/blocks (and block-elements,
# composition-objects), https://docs.slack.dev/reference/methods/chat.postMessage ----------------

MESSAGE_TEXT_LIMIT = 40_000
"""``text`` of a message (Slack's docs say longer text is truncated; the fake refuses it,
answering ``msg_too_long``, so nothing is ever cut off unnoticed)."""
MESSAGE_BLOCKS_LIMIT = 50
VIEW_BLOCKS_LIMIT = 100
"""Home tab and modals."""
SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
HEADER_TEXT_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000
ACTION_ID_LIMIT = 255
BLOCK_ID_LIMIT = 255
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
PLACEHOLDER_LIMIT = 150
URL_LIMIT = 3000
VIEW_TITLE_LIMIT = 24
PRIVATE_METADATA_LIMIT = 3000
MARKDOWN_TOTAL_LIMIT = 12_000
"""All ``markdown`` blocks of one message together (Regie uses none; answered
``msg_blocks_too_long``, as reported in slackapi/bolt-js#2509)."""
RESPONSE_URL = "response"
"""Where the test harness points a slash command's ``response_url`` (``<fake.url>response``):
not a Web API method, so no scope, but a message all the same."""
_MESSAGE_METHODS = ("chat.postMessage", "chat.update", "chat.postEphemeral", RESPONSE_URL)
_VIEW_METHODS = ("views.publish", "views.open", "views.update", "views.push")


class _Problems:
    """Slack's validation messages: ``[ERROR] <what> [json-pointer:<where>]``."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, what: str, where: str) -> None:
        self.found.append(f"{what} [json-pointer:{where}]")

    def longer(self, value: Any, limit: int, where: str) -> None:
        if isinstance(value, str) and len(value) > limit:
            self.add(f"must be less than {limit + 1} characters", where)

    def more(self, items: Any, limit: int, where: str) -> None:
        if isinstance(items, list) and len(items) > limit:
            self.add(f"no more than {limit} items allowed", where)

    def text(self, obj: Any, limit: int, where: str, *, plain: bool = False) -> None:
        """A text object: ``{"type": "plain_text"|"mrkdwn", "text": …}``."""
        if obj is None:
            return
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            self.add("must provide an object with a string text", where)
            return
        kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            self.add(f"must be one of {', '.join(kinds)}", f"{where}/type")
        if not obj["text"]:
            self.add("must be more than 0 characters", f"{where}/text")
        self.longer(obj["text"], limit, f"{where}/text")


def block_problems(blocks: Any, where: str, limit: int) -> list[str]:
    """What Slack would say about a list of blocks (empty when it would accept them)."""
    problems = _Problems()
    if not isinstance(blocks, list):
        problems.add("must provide an array", where)
        return problems.found
    problems.more(blocks, limit, where)
    for n, block in enumerate(blocks):
        _block(block, f"{where}/{n}", problems)
    return problems.found


def _block(block: Any, at: str, p: _Problems) -> None:
    if not isinstance(block, dict):
        p.add("must provide an object", at)
        return
    kind = block.get("type")
    p.longer(block.get("block_id"), BLOCK_ID_LIMIT, f"{at}/block_id")
    if kind == "section":
        if block.get("text") is None and not block.get("fields"):
            p.add("must provide text or fields", at)
        p.text(block.get("text"), SECTION_TEXT_LIMIT, f"{at}/text")
        fields = block.get("fields") or []
        p.more(fields, 10, f"{at}/fields")
        for n, field in enumerate(fields):
            p.text(field, FIELD_TEXT_LIMIT, f"{at}/fields/{n}")
        if block.get("accessory") is not None:
            _element(block["accessory"], f"{at}/accessory", p)
    elif kind == "context":
        elements = block.get("elements") or []
        p.more(elements, 10, f"{at}/elements")
        for n, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") == "image":
                p.longer(element.get("image_url"), URL_LIMIT, f"{at}/elements/{n}/image_url")
            else:
                p.text(element, SECTION_TEXT_LIMIT, f"{at}/elements/{n}")
    elif kind == "header":
        p.text(block.get("text"), HEADER_TEXT_LIMIT, f"{at}/text", plain=True)
    elif kind == "actions":
        elements = block.get("elements") or []
        p.more(elements, 25, f"{at}/elements")
        for n, element in enumerate(elements):
            _element(element, f"{at}/elements/{n}", p)
    elif kind == "image":
        p.longer(block.get("image_url"), URL_LIMIT, f"{at}/image_url")
        p.longer(block.get("alt_text"), 2000, f"{at}/alt_text")
        p.text(block.get("title"), 2000, f"{at}/title", plain=True)
    elif kind == "input":
        p.text(block.get("label"), 2000, f"{at}/label", plain=True)
        p.text(block.get("hint"), 2000, f"{at}/hint", plain=True)
        _element(block.get("element"), f"{at}/element", p)
    elif kind == "markdown":
        p.longer(block.get("text"), 12_000, f"{at}/text")
    elif kind not in ("divider", "rich_text", "video", "file"):
        p.add(f"unsupported type: {kind}", f"{at}/type")


def _element(element: Any, at: str, p: _Problems) -> None:
    if not isinstance(element, dict):
        p.add("must provide an object", at)
        return
    kind = element.get("type")
    p.longer(element.get("action_id"), ACTION_ID_LIMIT, f"{at}/action_id")
    p.text(element.get("placeholder"), PLACEHOLDER_LIMIT, f"{at}/placeholder", plain=True)
    if kind == "button":
        p.text(element.get("text"), BUTTON_TEXT_LIMIT, f"{at}/text", plain=True)
        p.longer(element.get("value"), BUTTON_VALUE_LIMIT, f"{at}/value")
        p.longer(element.get("url"), URL_LIMIT, f"{at}/url")
    elif kind in ("static_select", "multi_static_select", "radio_buttons", "checkboxes"):
        options = element.get("options") or []
        p.more(options, 100 if "select" in kind else 10, f"{at}/options")
        for n, option in enumerate(options):
            if not isinstance(option, dict):
                p.add("must provide an object", f"{at}/options/{n}")
                continue
            p.text(option.get("text"), OPTION_TEXT_LIMIT, f"{at}/options/{n}/text")
            p.longer(option.get("value"), OPTION_VALUE_LIMIT, f"{at}/options/{n}/value")
    elif kind == "plain_text_input":
        most = element.get("max_length")
        if isinstance(most, int) and not 1 <= most <= 3000:
            p.add("must be between 1 and 3000", f"{at}/max_length")


def _markdown_chars(blocks: Any) -> int:
    if not isinstance(blocks, list):
        return 0
    return sum(
        len(str(b.get("text", "")))
        for b in blocks
        if isinstance(b, dict) and b.get("type") == "markdown"
    )


def view_problems(view: Any) -> list[str]:
    """What Slack would say about a Home tab or modal view (empty when it would accept it)."""
    p = _Problems()
    if not isinstance(view, dict):
        p.add("must provide an object", "/view")
        return p.found
    if view.get("type") not in ("home", "modal"):
        p.add("must be one of home, modal", "/view/type")
    for key in ("title", "submit", "close"):
        p.text(view.get(key), VIEW_TITLE_LIMIT, f"/view/{key}", plain=True)
    p.longer(view.get("private_metadata"), PRIVATE_METADATA_LIMIT, "/view/private_metadata")
    p.longer(view.get("callback_id"), 255, "/view/callback_id")
    p.longer(view.get("external_id"), 255, "/view/external_id")
    return p.found + block_problems(view.get("blocks", []), "/view/blocks", VIEW_BLOCKS_LIMIT)


def contract_error(
    method: str, params: dict[str, Any], scopes: tuple[str, ...]
) -> dict[str, Any] | None:
    """Slack's answer to a call that breaks the platform contract, or None when it keeps it."""
    if method not in METHOD_SCOPES and method != RESPONSE_URL:
        return {"ok": False, "error": "unknown_method", "req_method": method}
    needed = needed_scope(method, params) if method != RESPONSE_URL else None
    if needed is not None and needed not in scopes:
        return {
            "ok": False,
            "error": "missing_scope",
            "needed": needed,
            "provided": ",".join(scopes),
        }
    if method in _MESSAGE_METHODS:
        text = params.get("text")
        says_nothing = not (text or params.get("blocks") or params.get("attachments"))
        if method in ("chat.postMessage", "chat.postEphemeral") and says_nothing:
            return {"ok": False, "error": "no_text"}
        if isinstance(text, str) and len(text) > MESSAGE_TEXT_LIMIT:
            return {"ok": False, "error": "msg_too_long"}
        if _markdown_chars(params.get("blocks")) > MARKDOWN_TOTAL_LIMIT:
            return {"ok": False, "error": "msg_blocks_too_long"}
        if "blocks" in params:
            found = block_problems(params["blocks"], "/blocks", MESSAGE_BLOCKS_LIMIT)
            if found:
                return {
                    "ok": False,
                    "error": "invalid_blocks",
                    "errors": found,
                    "response_metadata": {"messages": [f"[ERROR] {m}" for m in found]},
                }
    if method in _VIEW_METHODS:
        found = view_problems(params.get("view"))
        if found:
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": [f"[ERROR] {m}" for m in found]},
            }
    return None


class FakeSlack(LocalServer):
    """A tiny threaded HTTP server on 127.0.0.1:<free port> that records Web API calls."""

    def __init__(
        self,
        users: dict[str, dict[str, Any]] | None = None,
        users_page_size: int = 2,
        *,
        scopes: tuple[str, ...] | None = None,
        strict: bool = True,
    ) -> None:
        super().__init__()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        """Every call, refused ones included, oldest first."""
        self.users: dict[str, dict[str, Any]] = dict(users or {})
        self.users_page_size = users_page_size
        self.scopes: tuple[str, ...] = manifest_scopes() if scopes is None else tuple(scopes)
        """What the bot token was granted (default: what manifest.json requests); sent back in
        the ``x-oauth-scopes`` response header as Slack does."""
        self.strict = strict
        self.violations: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        """(method, parameters, Slack's answer) of every call that broke the contract."""
        self._lock = threading.Lock()
        self._failures: dict[str, list[str]] = {}
        self._messages = 0
        self.history: dict[str, list[dict[str, Any]]] = {}
        """Messages posted per channel (a user id counts as that user's DM, ``D<user>``)."""
        self.throttle: Throttle | None = None
        """When set, chat.postMessage is rate limited (429) and fails now and then (500)."""
        self.throttles: dict[str, Throttle] = {}
        """The same for other methods, e.g. ``{"conversations.history": Throttle(50 / 60)}``
        (Slack's Tier 3: about 50 calls a minute)."""
        self.latency = 0.0
        """Seconds every chat.postMessage takes (for crash tests)."""
        self.member_of: set[str] | None = None
        """The channels (``C…``/``G…``) the app was invited to: posting anywhere else answers
        ``not_in_channel``, as Slack does for a bot with ``chat:write`` alone. None: all."""

    path = "/api/"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    platform = "Slack's platform"

    def refusals(self) -> list[str]:
        return [f"{method}: {json.dumps(answer)}" for method, _, answer in self.violations]

    # -- what tests ask --------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call to ``method`` so far, oldest first."""
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until ``method`` was called at least ``count`` times; return those calls."""
        if wait_until(lambda: len(self.calls_to(method)) >= count, timeout=timeout):
            return self.calls_to(method)
        found = self.calls_to(method)
        with self._lock:
            seen = "\n".join(f"  {name} {params!r}" for name, params in self.calls)
            refused = "".join(
                f"\n  refused: {name} {json.dumps(answer)}" for name, _, answer in self.violations
            )
        raise AssertionError(
            f"expected {count} call(s) to {method} within {timeout}s, got {len(found)}; "
            f"calls seen:\n{seen or '  (none)'}{refused}"
        )

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
            refused = contract_error(method, params, self.scopes)
            if refused is not None:
                self.violations.append((method, params, refused))
                return refused
            if method in _MESSAGE_METHODS:
                self._messages += 1
                micros = max(_FIRST_TS_MICROS, int(time.time() * 1_000_000)) + self._messages
                ts = f"{micros // 1_000_000}.{micros % 1_000_000:06d}"
            by_id = {uid: self._visible(user) for uid, user in self.users.items()}
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
            if self._outside(channel):
                return {"ok": False, "error": "not_in_channel"}
            with self._lock:
                self.history.setdefault(channel, []).append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if method == "conversations.history":
            with self._lock:
                posted = list(self.history.get(str(params.get("channel")), []))
            return _history_page(posted, params)
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
        if method == "chat.delete":
            return self._delete(str(params.get("channel", "")), str(params.get("ts", "")))
        if method in _VIEW_METHODS:
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

    def unauthenticated(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Record a call that came without a token; Slack answers ``not_authed``."""
        answer = {"ok": False, "error": "not_authed"}
        with self._lock:
            self.calls.append((method, params))
            self.violations.append((method, params, answer))
        return answer

    def _outside(self, channel: str) -> bool:
        """A channel (not a DM) the app is not a member of."""
        joined = self.member_of
        return channel[:1] in ("C", "G") and joined is not None and channel not in joined

    def _delete(self, channel: str, ts: str) -> dict[str, Any]:
        """``chat.delete`` with a bot token: only the bot's own messages
        (``cant_delete_message`` for anyone else's); gone or never there: ``message_not_found``."""
        if self._outside(channel):
            return {"ok": False, "error": "not_in_channel"}
        with self._lock:
            posted = self.history.get(channel, [])
            found = next((m for m in posted if m.get("ts") == ts), None)
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            if found.get("bot_id") != "BBOT":
                return {"ok": False, "error": "cant_delete_message"}
            posted.remove(found)
        return {"ok": True, "channel": channel, "ts": ts}

    def _visible(self, user: dict[str, Any]) -> dict[str, Any]:
        """A user as this token may see them: no e-mail address without ``users:read.email``."""
        if "users:read.email" in self.scopes or "email" not in user.get("profile", {}):
            return user
        profile = {k: v for k, v in user["profile"].items() if k != "email"}
        return {**user, "profile": profile}

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
            bearer = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            authed = bool(bearer or params.pop("token", None))
            throttle = fake.throttle if method == "chat.postMessage" else None
            throttle = throttle or fake.throttles.get(method)
            refused = throttle.check() if throttle else None
            if refused == 429:
                self._send(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
            elif refused is not None:
                self._send(refused, {"ok": False, "error": "internal_error"})
            else:
                accepted = needed_scope(method, params) if method in METHOD_SCOPES else None
                answer = (
                    fake.handle(method, params) if authed else fake.unauthenticated(method, params)
                )
                self._send(200, answer, {"x-accepted-oauth-scopes": accepted or ""})

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


def _history_page(posted: list[dict[str, Any]], params: dict[str, Any]) -> dict[str, Any]:
    """One page of ``conversations.history``: newest first, ``limit`` (default 100, at most
    999) at a time, ``has_more`` and a ``next_cursor`` while there are more."""
    oldest = float(params.get("oldest") or 0)
    latest = float(params.get("latest") or "inf")
    newest_first = [m for m in reversed(posted) if oldest <= float(m["ts"]) <= latest]
    cursor = str(params.get("cursor") or "")
    try:
        start = int(cursor.removeprefix("hist:")) if cursor else 0
    except ValueError:
        return {"ok": False, "error": "invalid_cursor"}
    limit = min(int(params.get("limit") or 100), 999)
    page = newest_first[start : start + limit]
    more = start + limit < len(newest_first)
    return {
        "ok": True,
        "messages": page,
        "has_more": more,
        "response_metadata": {"next_cursor": f"hist:{start + limit}" if more else ""},
    }


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
