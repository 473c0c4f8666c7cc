"""A new hire's buddy ("buddy" / "mijn buddy"): for the new hire, who their buddy is and,
from the 1-month check-in's button, how it is going with them; for a buddy, who they look
after and a few ideas. How it is going is not stored: it steers the kind reply only, and
nobody else hears of it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Start
from dialogs.flows.common import ask_choice, labelled
from storage.models import Person
from storage.people import first_name

buddy = Dialog("buddy", version=1, first="start", title="buddy.title")

RECENT_DAYS = 120
"""A buddy hears about new colleagues who started at most this long ago (or start soon)."""
HOW = ("great", "fine", "not_met", "not_well")


def _new_hires(ctx: Ctx) -> list[Person]:
    since = ctx.today - timedelta(days=RECENT_DAYS)
    return list(
        ctx.db.exec(
            select(Person)
            .where(Person.buddy_id == ctx.person.id)
            .where(col(Person.start_date) >= since)
            .order_by(col(Person.start_date), col(Person.id))
        )
    )


@buddy.step("start")
def start(ctx: Ctx) -> Next:
    mine = ctx.db.get(Person, ctx.person.buddy_id) if ctx.person.buddy_id else None
    if mine is not None:
        return Goto("how")
    hires = _new_hires(ctx)
    if not hires:
        ctx.say("buddy.none")
        return End()
    names = ", ".join(p.name for p in hires)
    ctx.say("buddy.you_are", count=len(hires), names=names)
    ctx.say("buddy.tips")
    return End()


@buddy.step("how")
def how(ctx: Ctx) -> Next:
    mine = ctx.db.get(Person, ctx.person.buddy_id) if ctx.person.buddy_id else None
    if mine is None:
        return Goto("start")
    name = first_name(mine.name)
    if not ctx.answered:
        ctx.say("buddy.yours", name=mine.name)
        return ask_choice(ctx, "buddy.ask_how", labelled(ctx, "buddy.how", HOW), name=name)
    manager = ctx.db.get(Person, ctx.person.manager_id) if ctx.person.manager_id else None
    if ctx.answer == "not_well" and manager is not None:
        ctx.say("buddy.replies.not_well_manager", name=name, manager=first_name(manager.name))
    else:
        ctx.say(f"buddy.replies.{ctx.answer}", name=name)
    return Goto("checkin")


@buddy.step("checkin")
def checkin(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_choice(ctx, "buddy.ask_checkin", labelled(ctx, "buddy.checkin", ("yes", "no")))
    if ctx.answer == "yes":
        return Start("checkin")
    ctx.say("buddy.bye")
    return End()
