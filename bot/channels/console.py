"""The console channel: the embedded default, and a scriptable one.

Plain mode prints prompts with numbered choices; the person answers with the number or the
label. JSON mode (``--json``) prints one JSON object per reply line and ``{"type":
"turn_end"}`` after each input line, so programs can drive a conversation; an input line may be
plain text or ``{"value": …}`` for a choice (optionally with ``session``/``step``/``seq`` to
answer a specific prompt, which makes stale answers detectable). A nudge's or campaign
message's buttons show as ``[a]``, ``[b]``… (type the letter), or in JSON mode
``{"intent": …}`` with the button's value.

The letters of a message from the outbox are durable: they follow from the order the person
was shown their console messages in (the first message's buttons are a, b, the next one's
c, d…, starting again at a once the earlier ones have lapsed), so they mean the same after a
restart. A message's buttons stay pressable until one of
them is pressed (the press is claimed as inbound ``console:<row>:<reply>``, so it counts once)
or for :data:`BUTTONS_LAST` after it was shown. Someone who deleted all their data is enrolled
afresh by the next line they type (``rejoin``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TextIO

from sqlmodel import Session

from bot.channels.console_files import ConsoleLinks
from bot.delivery import ready_for_console
from dialogs.engine.content import DEFAULT_LANGUAGE
from dialogs.engine.replies import (
    Offer,
    PersonalLinks,
    Reply,
    Say,
    ScalePrompt,
    TextPrompt,
    reply_from_dict,
)
from dialogs.engine.runtime import Runtime, UnknownPerson
from dialogs.engine.turn import Action, Turn
from dialogs.nudges.rules import welcome_delivered
from storage.models import Outbound
from storage.outbox import mark_sent, pending_for, seen_inbound, shown_in_console


def render_text(reply: Reply) -> str:
    if isinstance(reply, Say):
        return reply.text
    if isinstance(reply, Offer):  # the console has no buttons: a nudge's text names its word
        lines = [reply.text] + [f"  → {label}: {url}" for label, url in reply.links]
        return "\n".join(lines)
    if isinstance(reply, PersonalLinks):  # made into files or URLs before (ConsoleLinks)
        return reply.text
    lines = [reply.text]
    options = reply.options()
    if isinstance(reply, ScalePrompt):
        low = f"{reply.low} = {reply.low_label}" if reply.low_label else ""
        high = f"{reply.high} = {reply.high_label}" if reply.high_label else ""
        legend = f"  ({low} … {high})" if low else ""
        lines.append(f"  [{' '.join(o.label for o in options)}]{legend}")
    else:
        lines.extend(f"  {n}. {o.label}" for n, o in enumerate(options, start=1))
    if reply.skip_label is not None:
        lines.append(f"  ↷ {reply.skip_label}")
    return "\n".join(lines)


def render_json(reply: Reply) -> dict[str, Any]:
    if isinstance(reply, Say):
        return {"type": "say", "kind": "text", "text": reply.text, "choices": []}
    if isinstance(reply, Offer):
        offer: dict[str, Any] = {"type": "say", "kind": "offer", "text": reply.text}
        offer["choices"] = [{"label": label, "value": intent} for intent, label in reply.actions]
        if reply.image:
            offer["image"] = reply.image
        if reply.links:
            offer["links"] = [{"label": label, "url": url} for label, url in reply.links]
        return offer
    if isinstance(reply, PersonalLinks):
        return {"type": "say", "kind": "text", "text": reply.text, "choices": []}
    choices: list[dict[str, Any]] = [{"label": o.label, "value": o.value} for o in reply.options()]
    if reply.skip_label is not None:
        choices.append({"label": reply.skip_label, "value": None})
    data: dict[str, Any] = {
        "type": "prompt",
        "kind": reply.kind,
        "text": reply.text,
        "choices": choices,
    }
    data["ref"] = {"session": reply.session_id, "step": reply.step, "seq": reply.seq}
    if isinstance(reply, TextPrompt):
        data["max_chars"] = reply.max_chars
    return data


def read_line(
    line: str, *, json_mode: bool, buttons: Mapping[str, str]
) -> tuple[str | None, Action | None, str | None]:
    """An input line as text, an action or an intent: in JSON mode ``{"value": …}`` answers like
    a button and ``{"intent": …}`` presses a message's button; typing ``[a]``/``a`` presses
    button a of the messages shown last (``buttons``: key -> intent)."""
    stripped = line.rstrip("\n")
    if not (json_mode and stripped.lstrip().startswith("{")):
        key = stripped.strip()
        pressed = buttons.get(key.strip("[]").lower()) if len(key) <= 3 else None
        return (stripped, None, None) if pressed is None else (None, None, pressed)
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError:
        return stripped, None, None
    if not isinstance(data, dict):
        return stripped, None, None
    if isinstance(data.get("intent"), str):
        return None, None, data["intent"]
    if "value" in data:
        ref = {"session_id": data.get("session"), "step": data.get("step"), "seq": data.get("seq")}
        return None, Action(value=data["value"], **ref), None
    if isinstance(data.get("text"), str):
        return data["text"], None, None
    return stripped, None, None


BUTTON_KEYS = "abcdefghijklmnopqrstuvwxyz"
BUTTONS_LAST = timedelta(days=14)
"""How long the buttons of a message shown in the console can be pressed."""


def render_with_buttons(reply: Reply, buttons: dict[str, str]) -> str:
    """Plain text; an offer's buttons become ``[a] label`` lines, recorded in ``buttons``
    (key -> intent) so typing the key presses the button."""
    if not isinstance(reply, Offer) or not reply.actions:
        return render_text(reply)
    keys = []
    for intent, _label in reply.actions:
        key = BUTTON_KEYS[len(buttons) % len(BUTTON_KEYS)]
        buttons[key] = intent
        keys.append(key)
    return render_with_keys(reply, keys)


def render_with_keys(reply: Reply, keys: Sequence[str]) -> str:
    """Plain text, an offer's buttons as ``[<key>] label`` lines with the given keys."""
    if not isinstance(reply, Offer) or not reply.actions:
        return render_text(reply)
    lines = [render_text(reply)]
    lines += [
        f"  [{key}] {label}" for key, (_intent, label) in zip(keys, reply.actions, strict=True)
    ]
    return "\n".join(lines)


@dataclass(frozen=True)
class Button:
    """What typing a letter does: press ``intent``; for a message from the outbox, as the
    answer to that message (``inbound_id``, claimed once)."""

    intent: str
    inbound_id: str | None = None


def inbound_id(row_id: int, reply: int) -> str:
    """The inbound id a press of one of a console message's buttons is claimed as."""
    return f"console:{row_id}:{reply}"


@dataclass(frozen=True)
class Letters:
    """The letters of the messages a person was shown in the console lately, and which of
    them can still be pressed. Durable: they follow from the outbox alone. A message's first
    letter comes after those of the messages shown in the :data:`BUTTONS_LAST` before it
    (round from z to a), so it never changes once shown, and the next message's letters follow
    on while earlier ones can still be pressed."""

    of_row: dict[int, list[list[str]]]
    """Row id -> per reply, the letters of its buttons."""
    live: dict[str, Button]
    used: int
    """Where the next offer's letters start (in-chat offers continue from here)."""

    @classmethod
    def of(cls, db: Session, person_id: int, *, now: datetime) -> Letters:
        rows = shown_in_console(db, person_id, since=now - 2 * BUTTONS_LAST)
        counts = [_buttons(row) for row in rows]
        of_row: dict[int, list[list[str]]] = {}
        first = 0  # the oldest row still within BUTTONS_LAST of the one being lettered
        window = 0  # buttons of rows[first:n]
        for n, row in enumerate(rows):
            assert row.id is not None and row.sent_at is not None
            while first < n and _shown(rows[first]) < row.sent_at - BUTTONS_LAST:
                window -= sum(counts[first])
                first += 1
            start, per_reply = window, []
            for count in counts[n]:
                per_reply.append([_key(start + k) for k in range(count)])
                start += count
            of_row[row.id] = per_reply
            window += sum(counts[n])
        recent = [row for row in rows if _shown(row) >= now - BUTTONS_LAST]
        wanted = [
            inbound_id(row.id or 0, n)
            for row in recent
            for n, keys in enumerate(of_row[row.id or 0])
            if keys
        ]
        answered = seen_inbound(db, wanted)
        live: dict[str, Button] = {}
        for row in recent:  # oldest first: a newer message's letter wins (after z comes a)
            for n, (data, keys) in enumerate(zip(row.payload, of_row[row.id or 0], strict=True)):
                pressed = inbound_id(row.id or 0, n)
                if not keys or pressed in answered:
                    continue
                for key, action in zip(keys, data["actions"], strict=True):
                    live[key] = Button(str(action[0]), pressed)
        used = sum(
            sum(counts[n]) for n, row in enumerate(rows) if _shown(row) >= now - BUTTONS_LAST
        )
        return cls(of_row, live, used)


def _buttons(row: Outbound) -> list[int]:
    """Per reply of a message, how many buttons it has."""
    return [
        len(data.get("actions", [])) if data.get("kind") == "offer" else 0 for data in row.payload
    ]


def _shown(row: Outbound) -> datetime:
    assert row.sent_at is not None
    return row.sent_at


def _key(n: int) -> str:
    return BUTTON_KEYS[n % len(BUTTON_KEYS)]


class ConsoleChannel:
    def __init__(
        self,
        runtime: Runtime,
        person_id: int,
        out: TextIO,
        *,
        json_mode: bool,
        rejoin: Callable[[str | None], int] | None = None,
        links: ConsoleLinks | None = None,
    ) -> None:
        self.runtime = runtime
        self.links = links
        """Writes "download my data" files and shows sign-in URLs (None: their text only)."""
        self.person_id = person_id
        self.out = out
        self.json_mode = json_mode
        self.rejoin = rejoin
        """Enrols the person afresh, in the language they last spoke here, when they deleted
        all their data (None: no new start)."""
        self.language: str | None = None
        """The person's language after the last turn."""
        self.buttons: dict[str, Button] = {}
        """What each letter presses: the buttons of console messages not yet answered, and of
        the offers of this chat."""
        self.used = 0
        """Letters given out so far; the next offer's buttons continue from here."""

    def emit(self, replies: Iterable[Reply], keys: Sequence[Sequence[str]] | None = None) -> None:
        """Show replies; an offer's buttons get ``keys`` (per reply, from the outbox), or the
        next free letters."""
        replies = list(replies)
        for n, reply in enumerate(replies):
            if isinstance(reply, PersonalLinks) and self.links is not None:
                shown = self.links.show(reply, self.language or DEFAULT_LANGUAGE)
                self.out.write(
                    json.dumps(shown.as_json(), ensure_ascii=False) + "\n"
                    if self.json_mode
                    else shown.plain() + "\n\n"
                )
                continue
            if self.json_mode:
                self.out.write(json.dumps(render_json(reply), ensure_ascii=False) + "\n")
                continue
            given = list(keys[n]) if keys is not None else []
            if isinstance(reply, Offer) and reply.actions and not given:
                given = self._letters_for(reply)
            self.out.write(render_with_keys(reply, given) + "\n\n")
        if self.json_mode:
            self.out.write(json.dumps({"type": "turn_end"}) + "\n")
        self.out.flush()

    def _letters_for(self, offer: Offer) -> list[str]:
        """Letters for an offer of this chat (not from the outbox: they last as long as the
        chat)."""
        keys = []
        for intent, _label in offer.actions:
            key = _key(self.used)
            self.used += 1
            self.buttons[key] = Button(intent)
            keys.append(key)
        return keys

    def emit_if_any(self, replies: list[Reply]) -> None:
        if replies:
            self.emit(replies)

    def show_inbox(self) -> int:
        """Show the messages waiting for someone reachable only here (marked sent), with the
        letters of their buttons; returns how many there were. Also picks up the buttons of
        messages shown before that are still unanswered."""
        now = self.runtime.clock()
        with Session(self.runtime.engine, expire_on_commit=False) as db:
            # A digest is composed from what is shared now and audited as read (or skipped).
            content = self.runtime.content
            shown: list[Outbound] = [
                row
                for row in pending_for(db, self.person_id, now=now)
                if ready_for_console(db, row, now=now, content=content)
            ]
            for row in shown:
                mark_sent(row, channel="console", now=now)
                db.add(row)
            db.flush()
            welcome_delivered(db, shown, now=now)
            letters = Letters.of(db, self.person_id, now=now)
            db.commit()
        self.buttons, self.used = dict(letters.live), letters.used
        replies: list[Reply] = []
        keys: list[list[str]] = []
        for row in shown:
            assert row.id is not None
            replies += [reply_from_dict(data) for data in row.payload]
            keys += letters.of_row[row.id]
        if replies:
            self.emit(replies, keys)
        return len(shown)

    def _pressed(self, line: str) -> Button | None:
        """The button a line presses: a letter, or in JSON mode ``{"intent": …}`` (the newest
        unanswered console message with that button answers to it)."""
        stripped = line.strip()
        if self.json_mode and stripped.startswith("{"):
            try:
                data = json.loads(stripped)
            except json.JSONDecodeError:
                return None
            intent = data.get("intent") if isinstance(data, dict) else None
            if not isinstance(intent, str):
                return None
            same = [b for b in self.buttons.values() if b.intent == intent and b.inbound_id]
            return same[-1] if same else Button(intent)  # the newest: shown last
        if len(stripped) > 3:
            return None
        return self.buttons.get(stripped.strip("[]").lower())

    def send(self, line: str) -> list[Reply]:
        pressed = self._pressed(line)
        text, action, intent = read_line(line, json_mode=self.json_mode, buttons={})
        if pressed is not None:
            text, action, intent = None, None, pressed.intent
        turn = Turn(
            person_id=self.person_id,
            text=text,
            action=action,
            intent=intent,
            inbound_id=pressed.inbound_id if pressed is not None else None,
        )
        try:
            handled = self.runtime.handle_turn(turn)
            replies, self.language = handled.replies, handled.language or self.language
        except UnknownPerson:
            if self.rejoin is None:
                raise
            replies = self._start_afresh(line)
        if pressed is not None and pressed.inbound_id is not None:
            self.buttons = {
                k: b for k, b in self.buttons.items() if b.inbound_id != pressed.inbound_id
            }
        self.emit(replies)
        return replies

    def _start_afresh(self, line: str) -> list[Reply]:
        """The person deleted all their data: they are enrolled anew, and the line they typed
        starts the conversation (a letter is just text now: the old buttons went with them)."""
        assert self.rejoin is not None
        self.person_id = self.rejoin(self.language)
        self.buttons, self.used = {}, 0
        text = read_line(line, json_mode=self.json_mode, buttons={})[0]
        handled = self.runtime.handle_turn(Turn(person_id=self.person_id, text=text or "hi"))
        self.language = handled.language or self.language
        return handled.replies

    def open(self, *, greet: bool) -> None:
        """On start: show the open question of an unfinished conversation; with ``greet``
        (an interactive terminal) start talking when nothing is open."""
        replies = self.runtime.resume(self.person_id)
        if replies:
            self.emit(replies)
        elif greet:
            self.send("hi")

    def run(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.send(line)
