"""Replies -> Block Kit, built with ``slack_sdk.models.blocks`` (which validates sizes).

Slack's limits (https://docs.slack.dev/reference/block-kit/blocks): 3,000 characters of text in
a section, 50 blocks in a message, 100 in a Home tab or modal. A long text becomes several
sections, cut between lines (else between words, never inside an escape such as ``&amp;``), and
a long turn several messages: nothing is ever cut off.

Every message carries a ``text`` fallback for notifications and screen readers. Everything that
goes into mrkdwn is escaped (``&``, ``<``, ``>``) and marked ``verbatim`` (Slack then links no
URL, channel name or ``@here`` by itself): a person's typed text can never become a mention, a
``<!channel>`` or a link. Answer buttons sit in an actions block whose ``block_id`` is the
prompt's reference (session, step, seq), so a click on an old message is recognised as stale;
each element's ``value`` is the answer, JSON-encoded. A destructive yes
(``ConfirmPrompt.destructive``) is a ``danger`` button; no other answer is styled.

App Home shows summaries: the first :data:`HOME_ITEMS` of a list and "…and n more" with a button
that opens the whole list in the Messages tab, where every button there continues too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    ImageBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from dialogs.engine.replies import (
    ConfirmPrompt,
    DatePrompt,
    Offer,
    PersonalLinks,
    Prompt,
    Reply,
    Say,
    ScalePrompt,
    TextPrompt,
)
from dialogs.engine.text import shorten
from dialogs.flows.home import Summary

REF_PREFIX = "regie|"
MAX_BUTTONS = 5
"""More choices than this become a menu: a row of many buttons reads badly on a phone."""
SECTION_LIMIT = 3000
MESSAGE_BLOCK_LIMIT = 50
NOTIFICATION_LIMIT = 3000
"""The ``text`` of a message with blocks is only its notification; the blocks hold it all."""
HOME_ITEMS = 8
"""Items of a list App Home shows; the rest is one tap away in the Messages tab."""
HOME_ITEM_CHARS = 150
POST_OPTIONS = {"unfurl_links": False, "unfurl_media": False}
"""For every ``chat.postMessage``: no link previews under the bot's messages (a link a person
typed would otherwise unfold into a preview of someone else's page)."""
_WORDS = re.compile(r"\S+\s*|\s+")
Translate = Callable[..., str]


def escape(text: str) -> str:
    """Slack's mrkdwn control characters: https://api.slack.com/reference/surfaces/formatting"""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def encode_ref(prompt: Prompt) -> str:
    return f"{REF_PREFIX}{prompt.session_id}|{prompt.step}|{prompt.seq}"


def decode_ref(block_id: str) -> tuple[int, str, int] | None:
    if not block_id.startswith(REF_PREFIX):
        return None
    try:
        session, step, seq = block_id[len(REF_PREFIX) :].split("|")
        return int(session), step, int(seq)
    except ValueError:
        return None


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[dict[str, Any]]


def _sections(text: str) -> list[Block]:
    """A long text as several sections (Slack allows 3,000 characters in one)."""
    return _sections_of([escape(line) for line in text.split("\n")])


def mrkdwn(text: str) -> MarkdownTextObject:
    """Escaped mrkdwn, ``verbatim``: shown as written, nothing linked or mentioned by Slack."""
    return MarkdownTextObject(text=text, verbatim=True)


def _sections_of(lines: list[str]) -> list[Block]:
    """Lines of mrkdwn (already escaped) as few sections as they fit in."""
    return [SectionBlock(text=mrkdwn(chunk)) for chunk in _chunks(lines)]


def _chunks(lines: list[str], limit: int = SECTION_LIMIT) -> list[str]:
    """Escaped lines joined into texts of at most ``limit`` characters: cut between lines, a
    line too long by itself between words (a word too long, anywhere but in an escape)."""
    chunks: list[str] = []
    current: list[str] = []
    size = -1  # len("\n".join(current))
    for line in lines:
        for piece in _cut_line(line, limit) if len(line) > limit else [line]:
            if current and size + 1 + len(piece) > limit:
                chunks.append("\n".join(current))
                current, size = [], -1
            current.append(piece)
            size += 1 + len(piece)
    chunks.append("\n".join(current))
    return [chunk if chunk.strip() else " " for chunk in chunks]


def _cut_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for word in _WORDS.findall(line):
        while len(current) + len(word) > limit:
            if current:
                pieces.append(current)
                current = ""
                continue
            cut = _safe_cut(word, limit)
            pieces.append(word[:cut])
            word = word[cut:]
        current += word
    if current:
        pieces.append(current)
    return pieces


def _safe_cut(text: str, limit: int) -> int:
    """Where to cut ``text`` to keep at most ``limit`` characters, not inside ``&amp;`` etc."""
    amp = text.rfind("&", max(0, limit - 4), limit)
    return amp if amp > 0 and ";" not in text[amp:limit] else limit


def _button(label: str, value: Any, index: int, *, style: str | None = None) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=shorten(label, 75), emoji=True),
        action_id=f"regie:answer:{index}",
        value=json.dumps(value),
        style=style,
    )


def prompt_blocks(prompt: Prompt, t: Translate) -> list[Block]:
    blocks = _sections(prompt.text)
    elements: list[Any] = []
    options = prompt.options()
    if isinstance(prompt, ScalePrompt):
        elements = [_button(o.label, int(o.value), n) for n, o in enumerate(options)]
    elif isinstance(prompt, ConfirmPrompt):
        danger = bool(getattr(prompt, "destructive", False))
        elements = [
            _button(o.label, o.value, n, style="danger" if danger and o.value == "yes" else None)
            for n, o in enumerate(options)
        ]
    elif isinstance(prompt, DatePrompt):
        elements = [
            DatePickerElement(
                action_id="regie:answer:date",
                placeholder=PlainTextObject(text=t("channel.date_placeholder")),
            )
        ]
    elif isinstance(prompt, TextPrompt):
        if prompt.long:  # the modal takes what the question takes (its value says)
            limits = {"max": prompt.max_chars, "skip": prompt.skip_label is not None}
            elements = [
                ButtonElement(
                    text=PlainTextObject(text=t("channel.write_longer")),
                    action_id="regie:modal",
                    value=json.dumps(limits),
                )
            ]
    elif len(options) <= MAX_BUTTONS:
        elements = [_button(o.label, o.value, n) for n, o in enumerate(options)]
    else:
        elements = [
            StaticSelectElement(
                action_id="regie:answer:select",
                placeholder=PlainTextObject(text=t("channel.select_placeholder")),
                options=[
                    Option(text=shorten(o.label, 75), value=json.dumps(o.value))
                    for o in options[:100]
                ],
            )
        ]
    if prompt.skip_label is not None:
        elements.append(_button(prompt.skip_label, None, 99))
    if elements:
        blocks.append(ActionsBlock(block_id=encode_ref(prompt), elements=elements))
    legend = _legend(prompt, t)
    if legend:
        blocks.append(ContextBlock(elements=[mrkdwn(escape(legend))]))
    return blocks


def offer_blocks(offer: Offer, number: int) -> list[Block]:
    """A nudge or campaign message: its image, text, and buttons that start a conversation
    (like App Home's) or open a link."""
    blocks: list[Block] = []
    if offer.image:
        blocks.append(ImageBlock(image_url=offer.image, alt_text=shorten(offer.text, 100)))
    blocks += _sections(offer.text)
    buttons = [
        ButtonElement(
            text=PlainTextObject(text=shorten(label, 75), emoji=True),
            action_id=f"regie:start:{intent}",
            value=intent,
        )
        for intent, label in offer.actions
    ]
    buttons += [
        ButtonElement(
            text=PlainTextObject(text=shorten(label, 75), emoji=True),
            action_id=f"regie:link:{n}",
            url=url,
        )
        for n, (label, url) in enumerate(offer.links)
    ]
    if buttons:
        blocks.append(ActionsBlock(block_id=f"regie:offer:{number}", elements=buttons))
    return blocks


def _legend(prompt: Prompt, t: Translate) -> str:
    if isinstance(prompt, ScalePrompt) and prompt.low_label:
        return t(
            "channel.scale_legend",
            low=prompt.low,
            high=prompt.high,
            low_label=prompt.low_label,
            high_label=prompt.high_label,
        )
    if isinstance(prompt, TextPrompt):
        return t("channel.type_below")
    return ""


def _fallback(blocks: Sequence[Block]) -> str:
    """The notification text of a message: its sections' (already escaped) text."""
    texts = [b.text.text for b in blocks if isinstance(b, SectionBlock) and b.text is not None]
    text = "\n".join(texts)
    return text[: _safe_cut(text, NOTIFICATION_LIMIT)] or " "


def messages(replies: Sequence[Reply], t: Translate) -> list[Message]:
    """One turn's replies as few messages as possible (Slack allows ~1 message/s per channel),
    split at the 50-block limit (a long text over several messages, never cut off) and
    never with a prompt's buttons apart from its question."""
    result: list[Message] = []
    batch: list[Block] = []

    def flush() -> None:
        if batch:
            result.append(Message(_fallback(batch), [b.to_dict() for b in batch]))
            batch.clear()

    for number, reply in enumerate(replies):
        if isinstance(reply, Say):
            blocks = _sections(reply.text)
            if reply.section and number:  # the parts of a digest, set apart
                blocks = [DividerBlock(), *blocks]
        elif isinstance(reply, Offer):
            blocks = offer_blocks(reply, number)
        elif isinstance(reply, PersonalLinks):  # made into an Offer first (channels/links.py)
            blocks = _sections(reply.text)
        else:
            blocks = prompt_blocks(reply, t)
        if isinstance(reply, Prompt) and len(batch) + len(blocks) > MESSAGE_BLOCK_LIMIT:
            flush()
        while blocks:
            room = MESSAGE_BLOCK_LIMIT - len(batch)
            if room == 0:
                flush()
                continue
            batch.extend(blocks[:room])
            blocks = blocks[room:]
    flush()
    return result


def settle(blocks: Sequence[dict[str, Any]], block_id: str, note: str) -> list[dict[str, Any]]:
    """The message a button was on, with that button row replaced by a note (the answer, or
    "this question has closed"): no dangling buttons."""
    settled: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("block_id") == block_id:
            settled.append(ContextBlock(elements=[mrkdwn(escape(note))]).to_dict())
        elif block.get("type") == "context" and settled and settled[-1].get("type") == "context":
            continue  # the legend under the buttons goes with them
        else:
            settled.append(block)
    return settled


def modal_limits(value: str | None) -> tuple[int, bool]:
    """The most characters and whether it may be skipped, from a modal button's value."""
    try:
        limits = json.loads(value or "")
        return int(limits["max"]), bool(limits.get("skip"))
    except (ValueError, TypeError, KeyError):
        return 1000, False  # a button sent before the limits travelled with it


def long_answer_modal(t: Translate, *, metadata: str, max_chars: int) -> dict[str, Any]:
    """Where a long answer is written; it takes as many characters as the question does."""
    return View(
        type="modal",
        callback_id="regie:long",
        private_metadata=metadata,
        title=PlainTextObject(text=shorten(t("channel.modal_title"), 24)),
        submit=PlainTextObject(text=shorten(t("channel.modal_submit"), 24)),
        close=PlainTextObject(text=shorten(t("channel.modal_cancel"), 24)),
        blocks=[
            InputBlock(
                block_id="answer",
                label=PlainTextObject(text=shorten(t("channel.modal_title"), 2000)),
                element=PlainTextInputElement(
                    action_id="text", multiline=True, max_length=max_chars
                ),
            )
        ],
    ).to_dict()


def home_view(summary: Summary, t: Translate) -> dict[str, Any]:
    """The App Home tab: summaries that fit whoever opens it (a list shows its first
    :data:`HOME_ITEMS` items, each at most :data:`HOME_ITEM_CHARS` characters, and "…and n
    more" with a button that shows them all in the Messages tab), so the view stays far within
    Slack's 100 blocks and 3,000 characters a section however much a person has."""

    def listing(heading: str, items: list[str], intent: str) -> list[Block]:
        shown = [f"• {escape(shorten(item, HOME_ITEM_CHARS))}" for item in items[:HOME_ITEMS]]
        blocks = _sections_of([f"*{escape(heading)}*", *shown])
        if len(items) > HOME_ITEMS:
            blocks.append(
                SectionBlock(
                    block_id=f"regie:more:{intent}",
                    text=mrkdwn(escape(t("channel.home_more", count=len(items) - HOME_ITEMS))),
                    accessory=_start_button(t("channel.home_show_all"), intent),
                )
            )
        return blocks

    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=shorten(summary.title, 150))),
        *listing(summary.progress, summary.experiments, "experiment"),
        *_sections(summary.next_checkin),
        *listing(summary.plan_heading, summary.plan_items, "plan"),
        ContextBlock(elements=[mrkdwn(escape(summary.sharing))]),
        DividerBlock(),
        ActionsBlock(
            block_id="regie:home",
            elements=[_start_button(label, intent) for intent, label in summary.actions],
        ),
        ContextBlock(elements=[mrkdwn(escape(t("channel.home_continues")))]),
    ]
    return View(type="home", blocks=blocks).to_dict()


def _start_button(label: str, intent: str) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=shorten(label, 75)),
        action_id=f"regie:start:{intent}",
        value=intent,
    )
