"""Replies -> Bot Framework activities with Adaptive Cards 1.5.

A turn's replies become one activity: a card with the said texts and the open question, and a
plain-text summary in the activity text. When that would be over Teams' message size limit, the
replies go out as several activities, in order, the question (with its buttons) in the last; a
text too long for one activity is cut between lines (else words), never shortened. Every
``Action.Submit`` carries the prompt reference (session, step, seq) so a submit from an old card
is recognised as stale; it also carries the question text, so the card can be updated to show
the answer afterwards. Everything rendered in a TextBlock is escaped for card markdown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from dialogs.engine.replies import (
    ChoicePrompt,
    ConfirmPrompt,
    DatePrompt,
    Offer,
    Prompt,
    Reply,
    Say,
    ScalePrompt,
    TextPrompt,
)
from dialogs.engine.text import shorten

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_BUTTONS = 5
MAX_ACTIVITY_BYTES = 28 * 1024
"""Teams refuses a message over its size limit (HTTP 413, ``MessageSizeTooBig``), counting the
activity JSON encoded as UTF-16. Microsoft has documented ~28 KB, 40 KB and now 100 KB
(https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages);
Regie stays under the strictest."""
ENVELOPE_BYTES = 4 * 1024
"""Room left for what botbuilder adds to an activity (from, recipient, conversation, ids…)."""
ACTIVITY_BUDGET = MAX_ACTIVITY_BYTES - ENVELOPE_BYTES
NOTIFICATION_CHARS = 4000
"""The activity text of a card: what a notification shows (the card holds the whole text)."""
Translate = Callable[..., str]

_MARKDOWN = re.compile(r"([\\`*_\[\]~])")
_BULLET_START = re.compile(r"^(\s*)([-+])(?=\s)", re.MULTILINE)
_NUMBER_START = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)


def escape(text: str) -> str:
    """Backslash-escape what card markdown acts on (emphasis, links, code, list starts), so
    typed ``**``, ``[link](x)`` or ``- item`` stay text; other punctuation is left alone.
    https://learn.microsoft.com/adaptive-cards/authoring-cards/text-features"""
    text = _MARKDOWN.sub(r"\\\1", text)
    return _NUMBER_START.sub(r"\1\\.", _BULLET_START.sub(r"\1\\\2", text))


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "body": body,
    }
    if actions:
        content["actions"] = actions
    return content


def text_block(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": escape(text), "wrap": True, **style}


def _ref(prompt: Prompt) -> dict[str, Any]:
    return {
        "s": prompt.session_id,
        "t": prompt.step,
        "q": prompt.seq,
        "p": shorten(prompt.text, 500),
    }


def _start(offer: Offer, intent: str, label: str, *, settle: bool) -> dict[str, Any]:
    """A button that starts a conversation. ``p`` (the text) lets the card be updated to show
    the choice; a card with several parts (workshops to sign up for) is left as it is."""
    data: dict[str, Any] = {"regie_start": intent, "label": label}
    if settle:
        data["p"] = shorten(offer.text, 500)
    return _submit(label, data)


def _open_url(label: str, url: str) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": shorten(label, 80), "url": url}


def _image(offer: Offer) -> dict[str, Any]:
    return {"type": "Image", "url": offer.image, "altText": shorten(offer.text, 100)}


def _offer_body(offer: Offer) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    if offer.image:
        body.append(_image(offer))
    body.append(text_block(offer.text, separator=True, spacing="Medium"))
    buttons = [_start(offer, intent, label, settle=False) for intent, label in offer.actions]
    buttons += [_open_url(label, url) for label, url in offer.links]
    if buttons:
        body.append({"type": "ActionSet", "actions": buttons})
    return body


def _submit(title: str, data: dict[str, Any], *, style: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {"type": "Action.Submit", "title": shorten(title, 80), "data": data}
    if style:
        action["style"] = style
    return action


def prompt_parts(prompt: Prompt, t: Translate) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The card body and actions that ask ``prompt``."""
    ref = _ref(prompt)
    body = [text_block(prompt.text, weight="Bolder")]
    actions: list[dict[str, Any]] = []
    options = prompt.options()
    if isinstance(prompt, ScalePrompt | ConfirmPrompt) or (
        isinstance(prompt, ChoicePrompt) and len(options) <= MAX_BUTTONS
    ):
        actions = [
            _submit(
                o.label,
                {"regie": ref, "value": _typed(prompt, o.value), "label": o.label},
                style="positive" if isinstance(prompt, ConfirmPrompt) and n == 0 else None,
            )
            for n, o in enumerate(options)
        ]
        if isinstance(prompt, ScalePrompt) and prompt.low_label:
            body.append(
                text_block(
                    t(
                        "channel.scale_legend",
                        low=prompt.low,
                        high=prompt.high,
                        low_label=prompt.low_label,
                        high_label=prompt.high_label,
                    ),
                    isSubtle=True,
                    size="Small",
                )
            )
    else:
        body.append(_input(prompt, t))
        labels = {o.value: o.label for o in options}
        actions = [
            _submit(
                t("channel.send"), {"regie": ref, "labels": labels} if labels else {"regie": ref}
            )
        ]
    if prompt.skip_label is not None:
        actions.append(
            _submit(prompt.skip_label, {"regie": ref, "value": None, "label": prompt.skip_label})
        )
    return body, actions


def _typed(prompt: Prompt, value: str) -> Any:
    return int(value) if isinstance(prompt, ScalePrompt) else value


def _input(prompt: Prompt, t: Translate) -> dict[str, Any]:
    if isinstance(prompt, DatePrompt):
        return {"type": "Input.Date", "id": "answer", "label": t("channel.date_placeholder")}
    if isinstance(prompt, ChoicePrompt):
        return {
            "type": "Input.ChoiceSet",
            "id": "answer",
            "style": "compact",
            "placeholder": t("channel.select_placeholder"),
            "choices": [
                {"title": shorten(o.label, 100), "value": o.value} for o in prompt.options()
            ],
        }
    assert isinstance(prompt, TextPrompt)
    return {
        "type": "Input.Text",
        "id": "answer",
        "isMultiline": prompt.long,
        "maxLength": prompt.max_chars,
        "placeholder": t("channel.type_below"),
    }


def summary_text(replies: Sequence[Reply]) -> str:
    """The activity text: what a notification or a client without cards shows."""
    parts: list[str] = []
    for reply in replies:
        parts.append(reply.text)
        if isinstance(reply, ChoicePrompt | ConfirmPrompt):
            parts.extend(f"{n}. {o.label}" for n, o in enumerate(reply.options(), start=1))
    return "\n".join(parts)


def activity_size(activity: dict[str, Any]) -> int:
    """What Teams counts against its size limit: the activity's JSON in UTF-16, in bytes."""
    text = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-16-le"))


def activities(replies: Sequence[Reply], t: Translate) -> list[dict[str, Any]]:
    """One turn's replies as activities: plain text when nothing is asked, else one card; as
    several, in order, when one would be over Teams' size limit."""
    if not replies:
        return []
    parts = sum(isinstance(r, Offer) for r in replies) > 1
    return _fitted(list(replies), partial(_render, t=t, parts=parts))


def _fits(rendered: list[dict[str, Any]]) -> bool:
    return all(activity_size(activity) <= ACTIVITY_BUDGET for activity in rendered)


Render = Callable[[Sequence[Reply]], list[dict[str, Any]]]


def _fitted(replies: list[Reply], render: Render) -> list[dict[str, Any]]:
    """``replies`` rendered, split before Teams' size limit: the longest run from the start
    that fits goes first, the rest follows (so the question, with its buttons, comes last)."""
    rendered = render(replies)
    if _fits(rendered):
        return rendered
    if len(replies) == 1:
        return _cut(replies[0], render, rendered)
    fitting = _longest(len(replies) - 1, lambda n: _fits(render(replies[:n])))
    end = fitting or 1  # not even the first reply fits alone: it is cut on its own
    return _fitted(replies[:end], render) + _fitted(replies[end:], render)


def _cut(reply: Reply, render: Render, rendered: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One reply too long for an activity: the start of its text goes out first (as text),
    cut after a line, else after a word, else anywhere; the reply with the rest follows."""
    text = reply.text
    section = isinstance(reply, Say) and reply.section

    def head(end: int) -> Say:
        return Say(text[:end].removesuffix("\n"), section=section)

    for boundary in ("\n", " ", ""):
        ends = [n + 1 for n, c in enumerate(text[:-1]) if not boundary or c == boundary]
        best = _longest(len(ends), partial(_head_fits, ends, head, render))
        if best:
            end = ends[best - 1]
            return render([head(end)]) + _fitted([replace(reply, text=text[end:])], render)
    return rendered  # one character over the limit: nothing to cut (Teams will say so)


def _head_fits(ends: list[int], head: Callable[[int], Say], render: Render, n: int) -> bool:
    return _fits(render([head(ends[n - 1])]))


def _longest(most: int, fits: Callable[[int], bool]) -> int:
    """The largest n in 1..most with ``fits(n)`` (which holds up to some n, then never), or 0."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _render(replies: Sequence[Reply], *, t: Translate, parts: bool) -> list[dict[str, Any]]:
    """The replies as activities (one, but for nothing asked and nothing offered). ``parts``:
    a message of several offers (a campaign's), each part keeping its own buttons, also when
    it is split."""
    prompt = next((r for r in reversed(replies) if isinstance(r, Prompt)), None)
    offers = [r for r in replies if isinstance(r, Offer)]
    if prompt is None and len(offers) == 1 and not parts:  # one set of buttons: settled later
        offer = offers[0]
        body = [text_block(r.text) for r in replies]
        if offer.image:
            body.insert(0, _image(offer))
        starts = [_start(offer, intent, label, settle=True) for intent, label in offer.actions]
        starts += [_open_url(label, url) for label, url in offer.links]
        return [_card_activity(summary_text(replies), card(body, starts))]
    if prompt is None and offers:  # a campaign message: each part with its own buttons
        body = []
        for reply in replies:
            body += _offer_body(reply) if isinstance(reply, Offer) else [text_block(reply.text)]
        return [_card_activity(summary_text(replies), card(body))]
    if prompt is None and any(isinstance(r, Say) and r.section for r in replies):
        return [_sections_card(replies)]
    if prompt is None:
        return [_text_activity(summary_text(replies))]
    said = [r for r in replies if r is not prompt]
    body = [text_block(r.text) for r in said]
    question, actions = prompt_parts(prompt, t)
    return [_card_activity(summary_text(replies), card(body + question, actions))]


def _sections_card(replies: Sequence[Reply]) -> dict[str, Any]:
    """A structured message (a digest) as a card of sections, each on one line."""
    body = [
        text_block(" ".join(r.text.split()))
        | ({"separator": True, "spacing": "Medium"} if n else {})
        for n, r in enumerate(replies)
    ]
    return _card_activity(summary_text(replies), card(body))


def _card_activity(text: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "text": shorten(text, NOTIFICATION_CHARS),
        "textFormat": "plain",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": content}],
    }


def _text_activity(text: str) -> dict[str, Any]:
    return {"type": "message", "text": text, "textFormat": "plain"}


def settled_card(question: str, note: str) -> dict[str, Any]:
    """A submitted card, updated: the question and the answer (or "closed"), no inputs left."""
    return card([text_block(question, weight="Bolder"), text_block(note, isSubtle=True)])
