"""The learning record: courses, trainings, certificates and informal learning (shadowing,
mentoring), each with a date, an optional link and what the person took from it. Private by
default, with the one-tap share offer after saving; part of the profile (the profile's
overview counts it and opens it)."""

from __future__ import annotations

from datetime import date

from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Retry
from dialogs.engine.text import shorten
from dialogs.flows.common import ask_choice, ask_date, ask_text, bullet_list, format_date, labelled
from dialogs.flows.sharing import add_share_step, remember_saved
from storage.items import own, owned_by
from storage.learning import KINDS, MAX_LINK, MAX_TITLE, clean_link, learning_record
from storage.models import LearningEntry

learning = Dialog("learning", version=1, first="overview", title="learning.title")
add_share_step(learning, then="overview")

SHOWN = 10
MAX_ENTRIES = 200


def describe(ctx: Ctx, entry: LearningEntry) -> str:
    kind = ctx.t(f"learning.kinds.{entry.kind}")
    when = f", {format_date(ctx, entry.learned_on)}" if entry.learned_on else ""
    return f"{shorten(entry.title, 80)} ({kind}{when})"


@learning.step("overview")
def overview(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    entries = learning_record(ctx.db, ctx.person.id)
    if not ctx.answered:
        if entries:
            lines = [describe(ctx, e) for e in entries[:SHOWN]]
            more = len(entries) - SHOWN
            text = ctx.t("learning.list", count=len(entries)) + "\n" + bullet_list(lines)
            if more > 0:
                text += "\n" + ctx.t("learning.more", count=more)
            ctx.say_text(text)
        else:
            ctx.say("learning.empty")
        actions = ["add", *(["remove"] if entries else []), "done"]
        return ask_choice(ctx, "learning.what_now", labelled(ctx, "learning.actions", actions))
    if ctx.answer == "done":
        ctx.say("learning.bye")
        return End()
    if ctx.answer == "remove":
        return Goto("remove")
    if len(entries) >= MAX_ENTRIES:
        ctx.say("learning.full", count=MAX_ENTRIES)
        return End()
    return Goto("kind")


@learning.step("kind")
def kind(ctx: Ctx) -> Next:
    if not ctx.answered:
        options = labelled(ctx, "learning.kinds", [k.value for k in KINDS])
        return ask_choice(ctx, "learning.ask_kind", options)
    ctx.values["kind"] = ctx.answer
    return Goto("title")


@learning.step("title")
def title(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, f"learning.ask_title.{ctx.values['kind']}", max_chars=MAX_TITLE)
    ctx.values["title"] = shorten(str(ctx.answer), MAX_TITLE)
    return Goto("when")


@learning.step("when")
def when(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_date(ctx, "learning.ask_date", skippable=True)
    if ctx.answer and date.fromisoformat(ctx.answer) > ctx.today:
        return Retry(ctx.t("learning.date_in_future"))
    ctx.values["learned_on"] = ctx.answer or None
    return Goto("link")


@learning.step("link")
def link(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, "learning.ask_link", skippable=True, max_chars=MAX_LINK)
    if ctx.answer:
        cleaned = clean_link(str(ctx.answer))
        if cleaned is None:
            return Retry(ctx.t("learning.bad_link"))
        ctx.values["link"] = cleaned
    else:
        ctx.values["link"] = None
    return Goto("takeaway")


@learning.step("takeaway")
def takeaway(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, "learning.ask_takeaway", skippable=True, long=True)
    learned_on = ctx.values.get("learned_on")
    entry = LearningEntry(
        **owned_by(ctx.person, now=ctx.now),
        kind=ctx.values["kind"],
        title=ctx.values["title"],
        learned_on=date.fromisoformat(learned_on) if learned_on else None,
        link=ctx.values.get("link"),
        takeaway=str(ctx.answer or ""),
    )
    ctx.db.add(entry)
    remember_saved(ctx, entry)
    ctx.say("learning.saved", title=entry.title)
    return Goto("share")


@learning.step("remove")
def remove(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        entries = learning_record(ctx.db, ctx.person.id)
        options = [(str(e.id), shorten(describe(ctx, e), 60)) for e in entries[:SHOWN]]
        return ask_choice(ctx, "learning.which", [*options, ("back", ctx.t("common.back"))])
    if ctx.answer != "back":
        entry = own(ctx.db, LearningEntry, ctx.person.id, int(ctx.answer))
        if entry is not None:
            ctx.db.delete(entry)
            ctx.say("learning.removed", title=entry.title)
    return Goto("overview")
