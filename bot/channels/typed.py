"""A question answered by typing instead of tapping: what the typed text answered, so the
channels can settle the message that asked it (its buttons replaced by "✓ answer", or "this
question has closed" when the text started something else), as they do after a tap.

The same reading as the runtime's (``dialogs/engine/runtime.py``): a typed intent word starts
that conversation unless it is one of the question's options.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from dialogs.engine.content import Content
from dialogs.engine.replies import ConfirmPrompt, ParseContext, Prompt, Reply
from dialogs.engine.text import clean, normalise_keyword


def typed_answer(prompt: Prompt, text: str, content: Content, *, today: date) -> str | None:
    """The label of what ``text`` answered at ``prompt``, or None if it answered nothing."""
    typed = clean(text)
    parsed = prompt.parse(typed, ParseContext(today=today, words=content.words))
    option = bool(prompt.options()) and parsed.ok and not parsed.skipped
    if content.intents.get(normalise_keyword(typed)) is not None and not option:
        return None
    if not parsed.ok:
        return None
    if parsed.skipped:
        return prompt.skip_label or typed
    if isinstance(prompt, ConfirmPrompt):
        return prompt.yes_label if parsed.value else prompt.no_label
    labels = {o.value: o.label for o in prompt.options()}
    return labels.get(str(parsed.value), typed)


def asks_again(prompt: Prompt, replies: Sequence[Reply]) -> bool:
    """Whether the replies ask the same question again (it is still open: help, a retry)."""
    ref = (prompt.session_id, prompt.step, prompt.seq)
    return any(isinstance(r, Prompt) and (r.session_id, r.step, r.seq) == ref for r in replies)
