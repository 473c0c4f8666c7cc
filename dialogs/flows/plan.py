"""The development plan: items of three kinds (personal development, an improvement initiative,
team development), each with an optional target date; list, add, complete."""

from __future__ import annotations

from datetime import date

from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Retry
from dialogs.engine.text import shorten
from dialogs.flows.common import ask_choice, ask_date, ask_text, bullet_list, format_date, labelled
from dialogs.flows.sharing import add_share_step, remember_saved
from storage.items import open_plan_items, own, owned_by
from storage.models import PlanItem, PlanKind, PlanStatus

plan = Dialog("plan", version=1, first="overview", title="plan.title")
add_share_step(plan, then="overview")


def describe(ctx: Ctx, item: PlanItem) -> str:
    kind = ctx.t(f"plan.kinds.{item.kind}")
    when = f" — {format_date(ctx, item.target_date)}" if item.target_date else ""
    return f"{shorten(item.title, 80)} ({kind}){when}"


@plan.step("overview")
def overview(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        items = open_plan_items(ctx.db, ctx.person.id)
        if items:
            ctx.say_text(ctx.t("plan.list") + "\n" + bullet_list([describe(ctx, i) for i in items]))
            actions = ["add", "complete", "done"]
        else:
            ctx.say("plan.empty")
            actions = ["add", "done"]
        return ask_choice(ctx, "plan.what_now", labelled(ctx, "plan.actions", actions))
    if ctx.answer == "done":
        ctx.say("plan.bye")
        return End()
    return Goto("add_kind" if ctx.answer == "add" else "complete")


@plan.step("add_kind")
def add_kind(ctx: Ctx) -> Next:
    if not ctx.answered:
        kinds = [k.value for k in PlanKind]
        return ask_choice(ctx, "plan.ask_kind", labelled(ctx, "plan.kinds", kinds))
    ctx.values["kind"] = ctx.answer
    return Goto("add_title")


@plan.step("add_title")
def add_title(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, f"plan.ask_title.{ctx.values['kind']}", max_chars=300)
    ctx.values["title"] = ctx.answer
    return Goto("add_date")


@plan.step("add_date")
def add_date(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_date(ctx, "plan.ask_date", skippable=True)
    target = date.fromisoformat(ctx.answer) if ctx.answer else None
    if target is not None and target < ctx.today:
        return Retry(ctx.t("plan.date_in_past"))
    item = PlanItem(
        **owned_by(ctx.person, now=ctx.now),
        kind=ctx.values["kind"],
        title=ctx.values["title"],
        target_date=target,
    )
    ctx.db.add(item)
    remember_saved(ctx, item)
    ctx.say("plan.added", title=ctx.values["title"])
    return Goto("share")


@plan.step("complete")
def complete(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        items = open_plan_items(ctx.db, ctx.person.id)
        options = [(str(i.id), shorten(i.title, 60)) for i in items]
        return ask_choice(ctx, "plan.which", options)
    item = own(ctx.db, PlanItem, ctx.person.id, int(ctx.answer))
    if item is not None:
        item.status = PlanStatus.DONE
        item.done_at = ctx.now
        ctx.db.add(item)
        ctx.say("plan.completed", title=item.title)
    return Goto("overview")
