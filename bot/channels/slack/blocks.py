"""Replies -> Block Kit, built with ``slack_sdk.models.blocks`` (which validates sizes).

Every message carries a ``text`` fallback for notifications and screen readers. Everything that
goes into mrkdwn is escaped (``&``, ``<``, ``>``): a person's typed text can never become a
mention, a ``<!channel>`` or a disguised link. Answer buttons sit in an actions block whose
``block_id`` is the prompt's reference (session, step, seq), so a click on an old message is
recognised as stale; each element's ``value`` is the answer, JSON-encoded.
"""

from __future__ import annotations

import json
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

from dialogs.replies import (
    ConfirmPrompt,
    DatePrompt,
    Offer,
    Prompt,
    Reply,
    Say,
    ScalePrompt,
    TextPrompt,
)
from dialogs.summary import Summary
from dialogs.text import shorten

REF_PREFIX = "regie|"
MAX_BUTTONS = 5
"""More choices than this become a menu: a row of many buttons reads badly on a phone."""
SECTION_LIMIT = 3000
MESSAGE_BLOCK_LIMIT = 50
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
    chunks: list[str] = []
    current = ""
    for line in escape(text).split("\n"):
        while len(line) > SECTION_LIMIT:
            chunks.append(line[:SECTION_LIMIT])
            line = line[SECTION_LIMIT:]
        if len(current) + len(line) + 1 > SECTION_LIMIT:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    if current or not chunks:
        chunks.append(current or " ")
    return [SectionBlock(text=MarkdownTextObject(text=chunk)) for chunk in chunks]


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
        elements = [
            _button(o.label, o.value, n, style="primary" if n == 0 else None)
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
        if prompt.long:
            elements = [
                ButtonElement(
                    text=PlainTextObject(text=t("channel.write_longer")),
                    action_id="regie:modal",
                    value="long",
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
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=escape(legend))]))
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
    return "\n".join(texts)[:3000] or " "


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
            settled.append(ContextBlock(elements=[MarkdownTextObject(text=escape(note))]).to_dict())
        elif block.get("type") == "context" and settled and settled[-1].get("type") == "context":
            continue  # the legend under the buttons goes with them
        else:
            settled.append(block)
    return settled


def long_answer_modal(t: Translate, *, metadata: str, max_chars: int) -> dict[str, Any]:
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


def home_view(summary: Summary) -> dict[str, Any]:
    def bullets(lines: list[str]) -> str:
        return "\n".join(f"• {escape(line)}" for line in lines)

    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=shorten(summary.title, 150))),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{escape(summary.progress)}*\n{bullets(summary.experiments)}"
            )
        ),
        SectionBlock(text=MarkdownTextObject(text=escape(summary.next_checkin))),
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{escape(summary.plan_heading)}*\n{bullets(summary.plan_items)}"
            )
        ),
        ContextBlock(elements=[MarkdownTextObject(text=escape(summary.sharing))]),
        DividerBlock(),
        ActionsBlock(
            block_id="regie:home",
            elements=[
                ButtonElement(
                    text=PlainTextObject(text=label),
                    action_id=f"regie:start:{intent}",
                    value=intent,
                )
                for intent, label in summary.actions
            ],
        ),
    ]
    return View(type="home", blocks=blocks).to_dict()
