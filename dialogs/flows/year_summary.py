""" "Summarise my year": a short draft of the person's reflections and experiments of the past
twelve months, for their growth conversation. Shown to them first; they keep it, write their
own version or discard it. A kept summary is one of their items like any other: private by
default, offered to share with the manager in one tap, exported and deleted with the rest."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from dialogs.engine.assistant import SUMMARY_DIALOG, YearItems
from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next
from dialogs.engine.text import MAX_TEXT_CHARS
from dialogs.flows.ai_consent import add_ai_consent_step, ask_ai_consent, needs_ai_consent
from dialogs.flows.common import ask_choice, ask_text, labelled
from dialogs.flows.sharing import add_share_step, remember_saved
from storage.items import experiments, owned_by, reflection_conversations, reflections_since
from storage.models import Answer

LOOK_BACK = timedelta(days=365)

year_summary = Dialog(SUMMARY_DIALOG, version=1, first="draft", title="summary.title")
add_share_step(year_summary, then=None)
add_ai_consent_step(year_summary)


def year_items(db: Session, person_id: int, *, since: datetime) -> YearItems:
    """The person's own reflections and experiments since ``since`` (oldest first), and in how
    many conversations they reflected."""
    answers = reflections_since(db, person_id, since=since)
    recent = [
        e for e in experiments(db, person_id) if e.created_at >= since or e.updated_at >= since
    ]
    return YearItems(
        answers=list(answers),
        experiments=recent,
        conversations=reflection_conversations(db, person_id, since=since),
    )


@year_summary.step("draft")
def draft(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        if needs_ai_consent(ctx):
            return ask_ai_consent(ctx, then="draft")
        items = year_items(ctx.db, ctx.person.id, since=ctx.now - LOOK_BACK)
        if not items:
            ctx.say("summary.nothing_yet")
            return End()
        text = ctx.assistant.summary(ctx.db, ctx.person, items)
        ctx.values["draft"] = text
        ctx.say("summary.intro")
        ctx.say_text(text)
        actions = labelled(ctx, "summary.actions", ("keep", "edit", "discard"))
        return ask_choice(ctx, "summary.what_now", actions)
    if ctx.answer == "keep":
        return _keep(ctx, str(ctx.values["draft"]))
    if ctx.answer == "edit":
        return Goto("edit")
    ctx.say("summary.discarded")
    return End()


@year_summary.step("edit")
def edit(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, "summary.ask_edit", long=True, max_chars=MAX_TEXT_CHARS)
    return _keep(ctx, str(ctx.answer))


def _keep(ctx: Ctx, text: str) -> Next:
    item = Answer(
        **owned_by(ctx.person, now=ctx.now),
        dialog_id=SUMMARY_DIALOG,
        question_id="year",
        text=text,
    )
    ctx.db.add(item)
    remember_saved(ctx, item)
    ctx.say("summary.kept")
    return Goto("share")
