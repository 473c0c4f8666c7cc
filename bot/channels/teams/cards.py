"""Replies -> Bot Framework activities with Adaptive Cards 1.5.

A turn's replies become one activity: a card with the said texts and the open question, and a
plain-text summary in the activity text. Every ``Action.Submit`` carries the prompt reference
(session, step, seq) so a submit from an old card is recognised as stale; it also carries the
question text, so the card can be updated to show the answer afterwards. Everything rendered in
a TextBlock is escaped for card markdown.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from dialogs.replies import (
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
from dialogs.text import shorten

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_BUTTONS = 5
MAX_TEXT_ACTIVITY = 20_000
"""Teams refuses messages over ~28 KB; long texts (an export) go out in several messages."""
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


def activities(replies: Sequence[Reply], t: Translate) -> list[dict[str, Any]]:
    """One turn's replies as activities: plain text when nothing is asked, else one card."""
    if not replies:
        return []
    prompt = next((r for r in reversed(replies) if isinstance(r, Prompt)), None)
    offers = [r for r in replies if isinstance(r, Offer)]
    if prompt is None and len(offers) == 1:  # one set of buttons: settled after a press
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
        return _section_cards(replies)
    if prompt is None:
        return [_text_activity(chunk) for chunk in _chunks(summary_text(replies))]
    said = [r for r in replies if r is not prompt]
    body = [text_block(r.text) for r in said]
    question, actions = prompt_parts(prompt, t)
    return [_card_activity(summary_text(replies), card(body + question, actions))]


def _section_cards(replies: Sequence[Reply]) -> list[dict[str, Any]]:
    """A structured message (a digest) as cards of sections, split before Teams' size limit."""
    result: list[dict[str, Any]] = []
    batch: list[Reply] = []
    for reply in replies:
        if batch and len(summary_text([*batch, reply])) > MAX_TEXT_ACTIVITY:
            result.append(_sections_card(batch))
            batch = []
        batch.append(reply)
    result.append(_sections_card(batch))
    return result


def _sections_card(replies: Sequence[Reply]) -> dict[str, Any]:
    body = [
        text_block(shorten(r.text, MAX_TEXT_ACTIVITY))
        | ({"separator": True, "spacing": "Medium"} if n else {})
        for n, r in enumerate(replies)
    ]
    return _card_activity(summary_text(replies), card(body))


def _card_activity(text: str, content: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "text": shorten(text, 4000),
        "textFormat": "plain",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": content}],
    }


def _text_activity(text: str) -> dict[str, Any]:
    return {"type": "message", "text": text, "textFormat": "plain"}


def _chunks(text: str) -> list[str]:
    return [text[i : i + MAX_TEXT_ACTIVITY] for i in range(0, len(text), MAX_TEXT_ACTIVITY)] or [""]


def settled_card(question: str, note: str) -> dict[str, Any]:
    """A submitted card, updated: the question and the answer (or "closed"), no inputs left."""
    return card([text_block(question, weight="Bolder"), text_block(note, isSubtle=True)])
