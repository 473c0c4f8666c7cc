"""The console channel: the embedded default, and a scriptable one.

Plain mode prints prompts with numbered choices; the person answers with the number or the
label. JSON mode (``--json``) prints one JSON object per reply line and ``{"type":
"turn_end"}`` after each input line, so programs can drive a conversation; an input line may be
plain text or ``{"value": …}`` for a choice (optionally with ``session``/``step``/``seq`` to
answer a specific prompt, which makes stale answers detectable). A nudge's or campaign
message's buttons show as ``[a]``, ``[b]``… (type the letter), or in JSON mode
``{"intent": …}`` with the button's value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from dialogs.engine.replies import Offer, Reply, Say, ScalePrompt, TextPrompt
from dialogs.engine.runtime import Runtime
from dialogs.engine.turn import Action, Turn


def render_text(reply: Reply) -> str:
    if isinstance(reply, Say):
        return reply.text
    if isinstance(reply, Offer):  # the console has no buttons: a nudge's text names its word
        lines = [reply.text] + [f"  → {label}: {url}" for label, url in reply.links]
        return "\n".join(lines)
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


def render_with_buttons(reply: Reply, buttons: dict[str, str]) -> str:
    """Plain text; an offer's buttons become ``[a] label`` lines, recorded in ``buttons``
    (key -> intent) so typing the key presses the button."""
    if not isinstance(reply, Offer) or not reply.actions:
        return render_text(reply)
    lines = [render_text(reply)]
    for intent, label in reply.actions:
        key = BUTTON_KEYS[len(buttons) % len(BUTTON_KEYS)]
        buttons[key] = intent
        lines.append(f"  [{key}] {label}")
    return "\n".join(lines)


class ConsoleChannel:
    def __init__(self, runtime: Runtime, person_id: int, out: TextIO, *, json_mode: bool) -> None:
        self.runtime = runtime
        self.person_id = person_id
        self.out = out
        self.json_mode = json_mode
        self.buttons: dict[str, str] = {}
        """The buttons of the messages shown last (a nudge, a campaign message): [a], [b]…"""

    def emit(self, replies: Iterable[Reply]) -> None:
        replies = list(replies)
        if any(isinstance(r, Offer) and r.actions for r in replies):
            self.buttons = {}
        for reply in replies:
            if self.json_mode:
                self.out.write(json.dumps(render_json(reply), ensure_ascii=False) + "\n")
            else:
                self.out.write(render_with_buttons(reply, self.buttons) + "\n\n")
        if self.json_mode:
            self.out.write(json.dumps({"type": "turn_end"}) + "\n")
        self.out.flush()

    def emit_if_any(self, replies: list[Reply]) -> None:
        if replies:
            self.emit(replies)

    def send(self, line: str) -> list[Reply]:
        text, action, intent = read_line(line, json_mode=self.json_mode, buttons=self.buttons)
        turn = Turn(person_id=self.person_id, text=text, action=action, intent=intent)
        replies = self.runtime.handle(turn)
        self.emit(replies)
        return replies

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
