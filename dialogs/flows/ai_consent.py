"""Asking once whether text a person writes may go to the AI model.

Only when AI assistance is on (``ctx.assistant.ai``) and only the first time a feature would
send their text: the answer is kept as a consent record, the privacy centre can change it, and
nobody is asked again. Without a yes the deterministic path is used, silently."""

from __future__ import annotations

from dialogs.engine.dialog import Ctx, Dialog, Goto, Next
from dialogs.flows.common import ask_confirm
from storage.consent import current_consent, record_consent
from storage.models import ConsentKind


def needs_ai_consent(ctx: Ctx) -> bool:
    assert ctx.person.id is not None
    return ctx.assistant.ai and current_consent(ctx.db, ctx.person.id, ConsentKind.AI) is None


def ask_ai_consent(ctx: Ctx, *, then: str) -> Next:
    """Go to the consent question; afterwards continue at step ``then``."""
    ctx.values["after_consent"] = then
    return Goto("ai_consent")


def add_ai_consent_step(dialog: Dialog) -> None:
    """Register the ``ai_consent`` step on ``dialog`` (see :func:`ask_ai_consent`)."""

    def ai_consent(ctx: Ctx) -> Next:
        assert ctx.person.id is not None
        then = str(ctx.values.get("after_consent", dialog.first))
        if not ctx.answered:
            if not needs_ai_consent(ctx):  # answered in the meantime
                return Goto(then)
            return ask_confirm(ctx, "ai.consent")
        record_consent(ctx.db, ctx.person.id, ConsentKind.AI, granted=bool(ctx.answer), now=ctx.now)
        ctx.say("ai.consent_given" if ctx.answer else "ai.consent_declined")
        return Goto(then)

    dialog.add("ai_consent", ai_consent)
