"""The menu: what someone sees when they say hi with no conversation open.

The first page keeps to what most people do most; "More…" opens the rest (growth
conversations, the learning record, feedback, the buddy when there is one, settings), with a
way back. Every entry also starts by its words, from anywhere."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import select

from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Start
from dialogs.flows.common import ask_choice, labelled
from storage.models import Person
from storage.people import first_name

menu = Dialog("menu", version=2, first="choose", title="menu.title")

ENTRIES = ("reflection", "experiment", "checkin", "plan", "profile", "field", "privacy")
MORE = "more"
MORE_ENTRIES = ("growth", "learning", "feedback", "buddy", "settings")
AI_ENTRIES = ("summary",)
"""Shown only with AI assistance on (the words work either way)."""


def greeting(ctx: Ctx) -> str:
    """Good morning, afternoon or evening: for the hour it is where the person is."""
    return ctx.content.greeting(ctx.lang, ctx.now.astimezone(ZoneInfo(ctx.person.timezone)).hour)


def _has_buddy_ties(ctx: Ctx) -> bool:
    """Whether the person has a buddy or is someone's: only then is "My buddy" on offer."""
    if ctx.person.buddy_id is not None:
        return True
    return (
        ctx.db.exec(select(Person.id).where(Person.buddy_id == ctx.person.id)).first() is not None
    )


@menu.step("choose")
def choose(ctx: Ctx) -> Next:
    if not ctx.answered:
        entries = (*ENTRIES, *AI_ENTRIES) if ctx.assistant.ai else ENTRIES
        options = labelled(ctx, "menu.options", (*entries, MORE, "nothing"))
        return ask_choice(
            ctx,
            "menu.question",
            options,
            greeting=greeting(ctx),
            name=first_name(ctx.person.name),
        )
    if ctx.answer == "nothing":
        ctx.say("menu.bye")
        return End()
    if ctx.answer == MORE:
        return Goto(MORE)
    return Start(str(ctx.answer))


@menu.step(MORE)
def more(ctx: Ctx) -> Next:
    if not ctx.answered:
        entries = [e for e in MORE_ENTRIES if e != "buddy" or _has_buddy_ties(ctx)]
        options = labelled(ctx, "menu.options", (*entries, "back"))
        return ask_choice(ctx, "menu.more_question", options)
    if ctx.answer == "back":
        return Goto("choose")
    return Start(str(ctx.answer))
