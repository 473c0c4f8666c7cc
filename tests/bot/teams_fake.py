"""A local fake of the Bot Framework Connector (the REST API a bot calls on ``serviceUrl``).

    with FakeConnector() as fake:
        activity.service_url = fake.url      # e.g. the incoming activity's "serviceUrl"
        ...                                  # the bot replies through botbuilder
        assert fake.wait_sent()[0]["text"] == "hi"

Routes (Bot Framework v3; any path prefix before ``/v3/`` is accepted, as real service URLs
look like ``https://smba.trafficmanager.net/amer/``):

* ``POST /v3/conversations/{conversationId}/activities`` (send_to_conversation) and
  ``POST /v3/conversations/{conversationId}/activities/{activityId}`` (reply_to_activity):
  recorded in :attr:`FakeConnector.sent`, answered ``{"id": "act-<n>"}``.
* ``PUT /v3/conversations/{conversationId}/activities/{activityId}`` (update_activity):
  recorded in :attr:`FakeConnector.updates`, answered ``{"id": activityId}``.
* ``DELETE /v3/conversations/{conversationId}/activities/{activityId}`` (delete_activity):
  recorded in :attr:`FakeConnector.deleted` — only a message the bot itself sent in that
  conversation (and not deleted yet); one somebody else wrote (:attr:`FakeConnector.others`)
  answers 403, an unknown one 404 ``NotFound``.
* **Teams' channels**: with :attr:`FakeConnector.channels_with_app` set, a post, update or
  deletion in a team channel (``19:…@thread.tacv2``, with or without ``;messageid=``) that is
  not in it answers 403 ``BotNotInConversationRoster``, as Teams does when the app is not in the
  channel's team. None (the default): the fake does not model teams.
* ``GET /v3/conversations/{conversationId}/members/{memberId}``: :attr:`FakeConnector.members`
  or 404 with an ``ErrorResponse`` body; ``GET .../members`` lists them all.
* ``POST /v3/conversations`` (create_conversation): ``{"id": "new-conv"}``, recorded in
  :attr:`FakeConnector.created`.
* Anything ending in ``/oauth2/v2.0/token`` or containing ``botframework.com``: a fake token
  (counted in :attr:`FakeConnector.token_requests`).
* Anything else: 404 with an ``ErrorResponse`` body, recorded in :attr:`FakeConnector.unknown`.

The platform contract it enforces on every activity POSTed or PUT (recorded in
:attr:`FakeConnector.violations`, kept out of :attr:`FakeConnector.sent`/``updates``, and — unless
the fake was made with ``strict=False`` — raised as an ``AssertionError`` when the fake stops):

* **Size**: Teams refuses a message whose payload, encoded as UTF-16, is over its limit with
  HTTP 413 and ``{"error": {"code": "MessageSizeTooBig", …}}``. Microsoft has documented the
  limit as ~28 KB, then 40 KB, now 100 KB ("keep it within 80 KB");
  https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages.
  The fake holds the bot to the strictest, :data:`MAX_ACTIVITY_BYTES` (28 KB) of the activity's
  JSON (compact, non-ASCII as is) in UTF-16: whatever passes here passes on every tenant.
* **Shape**: a body that is not a JSON object answers 400 ``BadSyntax``, an activity without
  ``type`` 400 ``MissingProperty``, ``attachments`` that are not a list of objects with a
  ``contentType`` 400 ``BadArgument``/``MissingProperty`` (the codes of the connector's
  ``ErrorCodes``: BadArgument, BadSyntax, MessageSizeTooBig, MissingProperty, ServiceError).

* **Invoke responses** (:meth:`FakeConnector.invoke_answered`, called by the harness with what
  the bot answered an ``adaptiveCard/action`` invoke): Teams reads the answer from the HTTP
  response to the invoke itself (an unanswered invoke, botbuilder's 501, shows "Something went
  wrong"). The body must be ``{"statusCode", "type", "value"}`` with ``statusCode`` equal to the
  HTTP status: 200 with ``application/vnd.microsoft.card.adaptive`` and an Adaptive Card (1.4 or
  later, Universal Actions' own) as ``value``, or 200 with
  ``application/vnd.microsoft.activity.message`` and a text, or a 4xx/5xx with
  ``application/vnd.microsoft.error`` and ``{"code", "message"}``; the card is held to the same
  28 KB. https://learn.microsoft.com/adaptive-cards/authoring-cards/universal-action-model

How botbuilder calls it: msrest quotes every path parameter with ``quote(value, safe="")``, so a
Teams conversation id such as ``a:1Xy;messageid=17`` or ``19:abc@thread.tacv2`` arrives
percent-encoded (``/`` too, as ``%2F``); the fake splits the path first and then decodes each
part. ``reply_to_activity`` also sends an ``x-ms-conversation-id`` header.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.bot.fake_limits import Throttle
from tests.bot.fake_server import LocalServer
from tests.bot.sync_helpers import wait_until

_ACTIVITIES = re.compile(r"/v3/conversations/([^/]+)/activities(?:/([^/]+))?/?")
_MEMBERS = re.compile(r"/v3/conversations/([^/]+)/members(?:/([^/]+))?/?")
_CONVERSATIONS = re.compile(r"/v3/conversations/?")
_TEAM_CHANNEL = re.compile(r"19:[^;@]+@thread\.(?:tacv2|skype)")
MAX_ACTIVITY_BYTES = 28 * 1024
"""Teams' message size limit as the fake enforces it (UTF-16 bytes of the activity JSON)."""
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_TYPE = "application/vnd.microsoft.activity.message"
ERROR_TYPE = "application/vnd.microsoft.error"

FAKE_TOKEN = {
    "token_type": "Bearer",
    "expires_in": 3600,
    "ext_expires_in": 3600,
    "access_token": "fake-access-token",
}


class FakeConnector(LocalServer):
    """A tiny threaded HTTP server on 127.0.0.1:<free port> playing the Bot Connector service."""

    def __init__(
        self,
        members: dict[str, dict[str, Any]] | None = None,
        *,
        max_activity_bytes: int = MAX_ACTIVITY_BYTES,
        strict: bool = True,
    ) -> None:
        super().__init__()
        self.max_activity_bytes = max_activity_bytes
        self.strict = strict
        self.violations: list[dict[str, Any]] = []
        """Every activity refused for breaking the contract: the request (``_method``,
        ``_path``, ``_status``, ``_error``) and its body."""
        self.throttle: Throttle | None = None
        """When set, POSTs are rate limited (429) and fail now and then (500)."""
        self.sent: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.created: list[dict[str, Any]] = []
        self.deleted: list[tuple[str, str]] = []  # (conversation id, activity id)
        self.unknown: list[tuple[str, str]] = []  # (method, raw path) of unmatched requests
        self.members: dict[str, dict[str, Any]] = dict(members or {})
        self.channels_with_app: set[str] | None = None
        """The team channels Regie may write in (its team has the app); None: not modelled."""
        self.others: set[tuple[str, str]] = set()
        """(conversation id, activity id) of messages people wrote: not the bot's to delete."""
        self.token_requests = 0
        self._lock = threading.Lock()
        self._failures: list[int] = []
        self._ids = 0

    path = "/"

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    platform = "the Bot Connector's"

    def refusals(self) -> list[str]:
        return [
            f"{v['_method']} {v['_path']}: {v['_status']} {json.dumps(v['_error'])}"
            for v in self.violations
        ]

    # -- what tests ask --------------------------------------------------------------------------

    def wait_sent(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` activities were POSTed; return all of them."""
        return self._wait(self.sent, "sent activities", count, timeout)

    def wait_updates(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` activities were updated (PUT); return all of them."""
        return self._wait(self.updates, "activity updates", count, timeout)

    def fail_next(self, status: int) -> None:
        """Make the next POST of an activity answer ``status`` (queued: call twice, fail twice).

        The failed activity is still recorded in :attr:`sent`, with ``"_status": status``.
        """
        with self._lock:
            self._failures.append(status)

    def _wait(
        self, records: list[dict[str, Any]], what: str, count: int, timeout: float
    ) -> list[dict[str, Any]]:
        def enough() -> bool:
            with self._lock:
                return len(records) >= count

        arrived = wait_until(enough, timeout=timeout)
        with self._lock:
            found = list(records)
            unknown = list(self.unknown)
        if arrived:
            return found
        seen = "\n".join(f"  {json.dumps(record, sort_keys=True)}" for record in found)
        extra = "".join(f"\n  unmatched: {method} {path}" for method, path in unknown)
        raise AssertionError(
            f"expected {count} {what} within {timeout}s, got {len(found)}:\n"
            f"{seen or '  (none)'}{extra}"
        )

    def invoke_answered(self, status: int, body: Any) -> dict[str, Any]:
        """What the bot answered an ``adaptiveCard/action`` invoke (HTTP ``status``, ``body``),
        held to the contract (module note): refused, it is recorded in :attr:`violations` and,
        when strict, raised at once."""
        refused = invoke_refusal(status, body, self.max_activity_bytes)
        if refused is None:
            assert isinstance(body, dict)
            return body
        record = dict(body) if isinstance(body, dict) else {"_body": body}
        error = _error("BadInvokeResponse", refused)
        record |= {"_method": "INVOKE", "_path": "(response)", "_status": status, "_error": error}
        with self._lock:
            self.violations.append(record)
        if self.strict:
            raise AssertionError(f"the invoke response broke Teams' contract: {refused}")
        return record

    # -- the API ---------------------------------------------------------------------------------

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        """Record one request and answer it (called from the server threads)."""
        if path.endswith("/oauth2/v2.0/token") or "botframework.com" in path:
            with self._lock:
                self.token_requests += 1
            return 200, dict(FAKE_TOKEN)
        route = urlsplit(path).path
        start = route.find("/v3/")
        route = route[start:] if start >= 0 else route
        activities = _ACTIVITIES.fullmatch(route)
        if activities is not None and self._not_in_team(unquote(activities.group(1))):
            return 403, _error(
                "BotNotInConversationRoster", "The bot is not part of the conversation roster."
            )
        if activities is not None and method in ("POST", "PUT"):
            refused = self._refusal(body)
            if refused is not None:
                status, error = refused
                record = dict(body) if isinstance(body, dict) else {"_body": body}
                record |= {"_method": method, "_path": path, "_status": status, "_error": error}
                with self._lock:
                    self.violations.append(record)
                return status, error
            conversation = unquote(activities.group(1))
            activity_id = unquote(activities.group(2)) if activities.group(2) else None
            record = dict(body) if isinstance(body, dict) else {"_body": body}
            record["_conversation"] = conversation
            if method == "PUT" and activity_id is not None:
                record["_activity_id"] = activity_id
                with self._lock:
                    self.updates.append(record)
                return 200, {"id": activity_id}
            if method == "POST":
                record["_reply_to"] = activity_id
                with self._lock:
                    self.sent.append(record)
                    if self._failures:
                        status = self._failures.pop(0)
                        record["_status"] = status
                        return status, _error("ServiceError", f"fake failure {status}")
                    self._ids += 1
                    new_id = f"act-{self._ids}"
                    record["_id"] = new_id  # the id Teams gives the message (for replyToId)
                return 200, {"id": new_id}
        if activities is not None and method == "DELETE" and activities.group(2):
            target = (unquote(activities.group(1)), unquote(activities.group(2)))
            with self._lock:
                if target in self.others:
                    return 403, _error("Forbidden", "A bot can only delete its own messages.")
                if not self._sent_by_bot(*target) or target in self.deleted:
                    return 404, _error("NotFound", "The activity was not found.")
                self.deleted.append(target)
            return 200, {}
        member = _MEMBERS.fullmatch(route)
        if member is not None and method == "GET":
            with self._lock:
                if member.group(2) is None:
                    return 200, [dict(found) for found in self.members.values()]
                found = self.members.get(unquote(member.group(2)))
            if found is None:
                return 404, _error("MemberNotFoundInConversation", "The member was not found.")
            return 200, dict(found)
        if _CONVERSATIONS.fullmatch(route) and method == "POST":
            with self._lock:
                self.created.append(body if isinstance(body, dict) else {"_body": body})
            return 200, {"id": "new-conv"}
        with self._lock:
            self.unknown.append((method, path))
        return 404, _error("NotFound", f"no fake route for {method} {route}")

    def _not_in_team(self, conversation: str) -> bool:
        channel = conversation.split(";", 1)[0]
        return (
            self.channels_with_app is not None
            and _TEAM_CHANNEL.fullmatch(channel) is not None
            and channel not in self.channels_with_app
        )

    def _sent_by_bot(self, conversation: str, activity_id: str) -> bool:
        return any(
            record.get("_id") == activity_id and record["_conversation"] == conversation
            for record in self.sent
        )

    def _refusal(self, body: Any) -> tuple[int, dict[str, Any]] | None:
        """The connector's answer to an activity it will not take, or None."""
        if not isinstance(body, dict):
            return 400, _error("BadSyntax", "The request body is not a JSON activity object.")
        if not body.get("type"):
            return 400, _error("MissingProperty", "The activity is missing its 'type'.")
        attachments = body.get("attachments")
        if attachments is not None:
            if not isinstance(attachments, list) or not all(
                isinstance(a, dict) for a in attachments
            ):
                return 400, _error("BadArgument", "'attachments' must be a list of objects.")
            if not all(a.get("contentType") for a in attachments):
                return 400, _error("MissingProperty", "An attachment is missing 'contentType'.")
        size = activity_size(body)
        if size > self.max_activity_bytes:
            return 413, _error(
                "MessageSizeTooBig",
                f"Message size ({size} bytes, UTF-16) exceeds the limit of "
                f"{self.max_activity_bytes} bytes.",
            )
        return None


def invoke_refusal(status: int, body: Any, max_bytes: int = MAX_ACTIVITY_BYTES) -> str | None:
    """Why Teams would not take ``body`` (HTTP ``status``) as the answer to an
    ``adaptiveCard/action`` invoke, or None."""
    if not isinstance(body, dict):
        return f"no invoke response body (HTTP {status}): the invoke was not answered"
    code, kind, value = body.get("statusCode"), body.get("type"), body.get("value")
    if not isinstance(code, int) or code != status:
        return f"statusCode {code!r} is not the HTTP status {status}"
    if kind == CARD_TYPE:
        if code != 200 or not isinstance(value, dict) or value.get("type") != "AdaptiveCard":
            return f"a card answer needs statusCode 200 and an AdaptiveCard: {code}, {value!r:.80}"
        version = tuple(int(n) for n in str(value.get("version", "0")).split(".")[:2])
        if version < (1, 4):
            return f"a card answering a Universal Action must be 1.4 or later, not {version}"
        if activity_size(value) > max_bytes:
            return f"the card is over {max_bytes} bytes (UTF-16): {activity_size(value)}"
        return None
    if kind == MESSAGE_TYPE:
        return None if code == 200 and isinstance(value, str) else "a message answer: 200, text"
    if kind == ERROR_TYPE:
        if code >= 400 and isinstance(value, dict) and {"code", "message"} <= set(value):
            return None
        return f"an error answer needs a 4xx/5xx and code and message: {code}, {value!r:.80}"
    return f"unknown invoke response type {kind!r}"


def activity_size(activity: dict[str, Any]) -> int:
    """What Teams counts against its size limit: the activity JSON encoded as UTF-16."""
    text = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-16-le"))


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


# -- HTTP plumbing -------------------------------------------------------------------------------


def _handler_for(fake: FakeConnector) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_PUT(self) -> None:
            self._answer("PUT")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = None
            if raw:
                text = raw.decode("utf-8")
                try:
                    body = json.loads(text)
                except ValueError:
                    body = text  # e.g. a form-encoded token request
            refused = fake.throttle.check() if fake.throttle and method == "POST" else None
            if refused is not None:
                status, payload = (
                    refused,
                    _error("Throttled" if refused == 429 else "ServiceError", "fake"),
                )
            else:
                status, payload = fake.handle(method, self.path, body)
            data = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            if refused == 429:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
