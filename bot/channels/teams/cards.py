"""Replies -> Bot Framework activities with Adaptive Cards 1.5.

A turn's replies become one activity: a card with the said texts and the open question, and
nothing else; the activity's ``summary`` is what a notification shows (an activity with both a
text and a card shows as two messages in Teams: the text above a card saying the same). Only a
turn of one line with nothing to tap is a plain-text activity. When a card would be over Teams'
message size limit, the replies go out as several activities, in order, the question (with its
buttons) in the last; a text too long for one activity is cut between lines (else words), never
shortened.

Card markdown needs its own line structure: a single ``\n`` is no line break in a TextBlock, so
each run of lines becomes a TextBlock whose lines are ``\n\n`` apart, and each run of "• " lines
a real list (``- item``, one per line), in a TextBlock of its own; a blank line starts a new
block with room above it. Everything else is escaped: a person's ``**``, ``[text](url)`` or
``<a href>`` stays text, as Slack's ``&lt;`` keeps mrkdwn inert.

Every button is a Universal Action (``Action.Execute``, Adaptive Cards 1.4+: Teams sends an
``adaptiveCard/action`` invoke and shows the card the bot answers with in its place), with the
same ``Action.Submit`` as its ``fallback`` for clients without Universal Actions; both carry the
same ``data``, so both reach the same turn code (``messages.py`` ``on_press``). That data holds
the prompt reference (session, step, seq), so a press on an old card is recognised as stale, and
the question text, so the card can still be settled to its question and answer when the card
it sent is no longer known (``sent.py``). A card that asks something also has a
``refresh`` for the person it was sent to (``userIds``): Teams asks for it when the card is
shown, and a card whose question has closed since comes back settled (``actions.py``).
Inputs have a label, and those that need an answer are required (the client says so, and the
card is not sent); a destructive yes (``ConfirmPrompt.destructive``) has the destructive style.
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
ANSWER = "answer"
"""The ``verb`` of a button that answers a question."""
START = "start"
"""The ``verb`` of a button that starts a conversation (a nudge's)."""
REFRESH = "refresh"
"""The ``verb`` Teams sends when it asks for a card again (its ``refresh``)."""
SUMMARY_CHARS = 500
"""The ``summary`` of a card activity: what a notification shows (the card holds the whole
text)."""
Translate = Callable[..., str]

_MARKDOWN = re.compile(r"([\\`*_\[\]~<>])")
_BULLET_START = re.compile(r"^(\s*)([-+#])(?=\s)", re.MULTILINE)
_NUMBER_START = re.compile(r"^(\s*\d+)\.(?=\s)", re.MULTILINE)
BULLET = "• "
"""How the content marks a list item (``dialogs/flows/common.py`` ``bullet_list``)."""


def escape(text: str) -> str:
    """Backslash-escape what card markdown acts on (emphasis, links, code, HTML, list and
    heading starts), so typed ``**``, ``[link](x)``, ``<a href=x>`` or ``- item`` stay text;
    other punctuation is left alone.
    https://learn.microsoft.com/adaptive-cards/authoring-cards/text-features"""
    text = _MARKDOWN.sub(r"\\\1", text)
    return _NUMBER_START.sub(r"\1\\.", _BULLET_START.sub(r"\1\\\2", text))


def _runs(text: str) -> list[tuple[bool, list[str], bool]]:
    """The text's runs of lines: (a list?, its lines, after a blank line?)."""
    runs: list[tuple[bool, list[str], bool]] = []
    blank = False
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            blank = bool(runs)
            continue
        listed = line.startswith(BULLET.strip()) and line[1:2].isspace()
        if runs and runs[-1][0] == listed and not blank:
            runs[-1][1].append(line)
        else:
            runs.append((listed, [line], blank))
        blank = False
    return runs


def _markdown(listed: bool, lines: list[str]) -> str:
    if listed:  # a real list: "- item", one per line (Teams documents "\r" between items)
        return "\r".join(f"- {escape(line[1:].strip())}" for line in lines)
    return "\n\n".join(escape(line) for line in lines)


def text_blocks(text: str, **style: Any) -> list[dict[str, Any]]:
    """``text`` as TextBlocks that keep its lines, paragraphs and lists (see the module's note).
    ``style`` goes on every block; the spacing and separator asked for, on the first only."""
    runs = _runs(text) or [(False, [" "], False)]
    first = {k: v for k, v in style.items() if k in ("spacing", "separator")}
    common = {k: v for k, v in style.items() if k not in first}
    blocks = []
    for n, (listed, lines, after_blank) in enumerate(runs):
        block = {"type": "TextBlock", "text": _markdown(listed, lines), "wrap": True, **common}
        if n == 0:
            block |= first
        elif not after_blank:
            block["spacing"] = "Small"
        blocks.append(block)
    return blocks


def card(
    body: list[dict[str, Any]],
    actions: list[dict[str, Any]] | None = None,
    *,
    refresh: dict[str, Any] | None = None,
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": "1.5",
        "body": body,
    }
    if refresh:
        content["refresh"] = refresh
    if actions:
        content["actions"] = actions
    return content


def text_block(text: str, **style: Any) -> dict[str, Any]:
    """One line of text as a TextBlock (a note, a legend)."""
    return {"type": "TextBlock", "text": escape(" ".join(text.split())), "wrap": True, **style}


def _ref(prompt: Prompt) -> dict[str, Any]:
    return {
        "s": prompt.session_id,
        "t": prompt.step,
        "q": prompt.seq,
        "p": shorten(prompt.text, 500),
    }


def same_prompt(ref: dict[str, Any], prompt: Prompt) -> bool:
    """Whether a button's prompt reference names ``prompt``."""
    return (ref.get("s"), ref.get("t"), ref.get("q")) == (
        prompt.session_id,
        prompt.step,
        prompt.seq,
    )


def _refresh(prompt: Prompt, user: str | None) -> dict[str, Any] | None:
    """Teams asks the bot for the card again when it is shown to ``user`` (``actions.py``): a
    question that closed since comes back settled. Nobody to name (rendered for no one): none."""
    if not user:
        return None
    action = {"type": "Action.Execute", "verb": REFRESH, "data": {"regie": _ref(prompt)}}
    return {"type": "Refresh", "action": action, "userIds": [user]}


def _start(offer: Offer, intent: str, label: str, *, settle: bool) -> dict[str, Any]:
    """A button that starts a conversation. ``p`` (the text) lets the card be updated to show
    the choice; a card with several parts (workshops to sign up for) is left as it is."""
    data: dict[str, Any] = {"regie_start": intent, "label": label}
    if settle:
        data["p"] = shorten(offer.text, 500)
    return _button(label, data, verb=START)


def _open_url(label: str, url: str) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": shorten(label, 80), "url": url}


def _image(offer: Offer) -> dict[str, Any]:
    return {"type": "Image", "url": offer.image, "altText": shorten(offer.text, 100)}


def _offer_body(offer: Offer) -> list[dict[str, Any]]:
    body: list[dict[str, Any]] = []
    if offer.image:
        body.append(_image(offer))
    body += text_blocks(offer.text, separator=True, spacing="Medium")
    buttons = [_start(offer, intent, label, settle=False) for intent, label in offer.actions]
    buttons += [_open_url(label, url) for label, url in offer.links]
    if buttons:
        body.append({"type": "ActionSet", "actions": buttons})
    return body


def _button(
    title: str,
    data: dict[str, Any],
    *,
    verb: str = ANSWER,
    style: str | None = None,
    inputs: bool = True,
) -> dict[str, Any]:
    """An ``Action.Execute`` with the same ``Action.Submit`` as its fallback (older clients);
    ``inputs=False``: it sends none of the card's inputs, so it is not held up by a required one
    (a skip button)."""
    submit: dict[str, Any] = {"type": "Action.Submit", "title": shorten(title, 80), "data": data}
    if style:
        submit["style"] = style
    if not inputs:
        submit["associatedInputs"] = "none"
    same = {key: value for key, value in submit.items() if key != "type"}
    return {"type": "Action.Execute", "verb": verb, **same, "fallback": submit}


def destructive(prompt: Prompt) -> bool:
    """A yes that cannot be undone ("delete all my data"): never styled as the happy path."""
    return isinstance(prompt, ConfirmPrompt) and bool(getattr(prompt, "destructive", False))


def prompt_parts(prompt: Prompt, t: Translate) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The card body and actions that ask ``prompt``."""
    ref = _ref(prompt)
    body = text_blocks(prompt.text, weight="Bolder")
    actions: list[dict[str, Any]] = []
    options = prompt.options()
    if isinstance(prompt, ScalePrompt | ConfirmPrompt) or (
        isinstance(prompt, ChoicePrompt) and len(options) <= MAX_BUTTONS
    ):
        actions = [
            _button(
                o.label,
                {"regie": ref, "value": _typed(prompt, o.value), "label": o.label},
                style="destructive" if destructive(prompt) and o.value == "yes" else None,
            )
            for o in options
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
            _button(
                t("channel.send"), {"regie": ref, "labels": labels} if labels else {"regie": ref}
            )
        ]
    if prompt.skip_label is not None:
        actions.append(
            _button(
                prompt.skip_label,
                {"regie": ref, "value": None, "label": prompt.skip_label},
                inputs=False,
            )
        )
    return body, actions


def _typed(prompt: Prompt, value: str) -> Any:
    return int(value) if isinstance(prompt, ScalePrompt) else value


def _input(prompt: Prompt, t: Translate) -> dict[str, Any]:
    """The input that answers ``prompt``: labelled and required (the client shows why when it
    is left empty, and sends nothing). Only a text that may be skipped is not required: sent
    empty it is skipped, as its own skip button (which sends no input) does."""
    required = {"isRequired": True, "errorMessage": t("channel.required")}
    if isinstance(prompt, DatePrompt):
        return {
            "type": "Input.Date",
            "id": "answer",
            "label": t("channel.date_placeholder"),
            **required,
        }
    if isinstance(prompt, ChoicePrompt):
        return {
            "type": "Input.ChoiceSet",
            "id": "answer",
            "label": t("channel.choice_label"),
            "style": "compact",
            "placeholder": t("channel.select_placeholder"),
            "choices": [
                {"title": shorten(o.label, 100), "value": o.value} for o in prompt.options()
            ],
            **required,
        }
    assert isinstance(prompt, TextPrompt)
    return {
        "type": "Input.Text",
        "id": "answer",
        "label": t("channel.answer_label"),
        "isMultiline": prompt.long,
        "maxLength": prompt.max_chars,
        "placeholder": t("channel.type_below"),
        **(required if prompt.skip_label is None else {}),
    }


def summary_text(replies: Sequence[Reply]) -> str:
    """The text of a plain-text activity (or of a client without cards): everything said, the
    options numbered."""
    parts: list[str] = []
    for reply in replies:
        parts.append(reply.text)
        parts.extend(_numbered(reply))
    return "\n".join(parts)


def card_summary(replies: Sequence[Reply]) -> str:
    """A card's ``summary``, the notification's preview: how it starts and, when it asks
    something, the question (and its options)."""
    first = replies[0].text.strip().split("\n", 1)[0]
    prompt = next((r for r in reversed(replies) if isinstance(r, Prompt)), None)
    if prompt is None or prompt is replies[0]:
        asked = " ".join(_numbered(prompt)) if prompt is not None else ""
        return shorten(f"{replies[0].text} {asked}", SUMMARY_CHARS)
    question = " ".join([prompt.text, *_numbered(prompt)])
    return shorten(f"{shorten(first, SUMMARY_CHARS // 2)} {question}", SUMMARY_CHARS)


def _numbered(reply: Reply) -> list[str]:
    if isinstance(reply, ChoicePrompt | ConfirmPrompt):
        return [f"{n}. {o.label}" for n, o in enumerate(reply.options(), start=1)]
    return []


def activity_size(activity: dict[str, Any]) -> int:
    """What Teams counts against its size limit: the activity's JSON in UTF-16, in bytes."""
    text = json.dumps(activity, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode("utf-16-le"))


def activities(
    replies: Sequence[Reply], t: Translate, *, user: str | None = None
) -> list[dict[str, Any]]:
    """One turn's replies as activities: plain text for one line with nothing to tap, else one
    card; as several, in order, when one would be over Teams' size limit. ``user``: the Teams
    id of the person they go to (a card that asks something refreshes for them)."""
    if not replies:
        return []
    parts = sum(isinstance(r, Offer) for r in replies) > 1
    return _fitted(list(replies), partial(_render, t=t, parts=parts, user=user))


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


def _render(
    replies: Sequence[Reply], *, t: Translate, parts: bool, user: str | None
) -> list[dict[str, Any]]:
    """The replies as activities (one, but for nothing asked and nothing offered). ``parts``:
    a message of several offers (a campaign's), each part keeping its own buttons, also when
    it is split."""
    prompt = next((r for r in reversed(replies) if isinstance(r, Prompt)), None)
    offers = [r for r in replies if isinstance(r, Offer)]
    if prompt is None and len(offers) == 1 and not parts:  # one set of buttons: settled later
        offer = offers[0]
        body = _said(replies)
        if offer.image:
            body.insert(0, _image(offer))
        starts = [_start(offer, intent, label, settle=True) for intent, label in offer.actions]
        starts += [_open_url(label, url) for label, url in offer.links]
        return [_card_activity(card_summary(replies), card(body, starts))]
    if prompt is None and offers:  # a campaign message: each part with its own buttons
        body = []
        for reply in replies:
            body += _offer_body(reply) if isinstance(reply, Offer) else text_blocks(reply.text)
        return [_card_activity(card_summary(replies), card(body))]
    if prompt is None and any(isinstance(r, Say) and r.section for r in replies):
        return [_sections_card(replies)]
    if prompt is None and not _needs_card(replies):
        return [_text_activity(summary_text(replies))]
    if prompt is None:
        return [_card_activity(card_summary(replies), card(_said(replies)))]
    body = [
        block
        for reply in replies
        if reply is not prompt
        for block in (_with_links(reply) if isinstance(reply, Offer) else text_blocks(reply.text))
    ]
    question, actions = prompt_parts(prompt, t)
    asking = card(body + question, actions, refresh=_refresh(prompt, user))
    return [_card_activity(card_summary(replies), asking)]


def _with_links(offer: Offer) -> list[dict[str, Any]]:
    """An offer said before a question (one-time download links): its text and its links
    (opening a link settles nothing, so they may sit above the question's buttons)."""
    body = text_blocks(offer.text)
    if offer.links:
        links = [_open_url(label, url) for label, url in offer.links]
        body.append({"type": "ActionSet", "actions": links})
    return body


def _needs_card(replies: Sequence[Reply]) -> bool:
    """Plain text loses line breaks in Teams: more than one line goes in a card."""
    return len(replies) > 1 or "\n" in replies[0].text.strip()


def _said(replies: Sequence[Reply]) -> list[dict[str, Any]]:
    return [block for reply in replies for block in text_blocks(reply.text)]


def _sections_card(replies: Sequence[Reply]) -> dict[str, Any]:
    """A structured message (a digest) as a card of sections set apart, each keeping its lines
    and lists."""
    apart: dict[str, Any] = {"separator": True, "spacing": "Medium"}
    body = [
        block
        for n, reply in enumerate(replies)
        for block in text_blocks(reply.text, **(apart if n else {}))
    ]
    return _card_activity(card_summary(replies), card(body))


def _card_activity(summary: str, content: dict[str, Any]) -> dict[str, Any]:
    """A card alone: no ``text`` (Teams would show it as a message of its own above the card);
    the ``summary`` is the notification's preview."""
    return {
        "type": "message",
        "summary": summary,
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": content}],
    }


def _text_activity(text: str) -> dict[str, Any]:
    return {"type": "message", "text": text, "textFormat": "plain"}


def settled_card(question: str, note: str) -> dict[str, Any]:
    """A submitted card whose content is no longer known (deleted by retention):
    the question and the answer (or "closed"), no inputs left."""
    return card([*text_blocks(question, weight="Bolder"), text_block(note, isSubtle=True)])


def settled(content: dict[str, Any], note: str) -> dict[str, Any]:
    """A card that was sent, settled: everything it said, without its inputs and buttons, and
    the answer (or "closed") below."""
    kept = [
        element
        for element in content.get("body", [])
        if not str(element.get("type", "")).startswith("Input.")
        and element.get("type") != "ActionSet"
    ]
    return card([*kept, text_block(note, isSubtle=True)])
