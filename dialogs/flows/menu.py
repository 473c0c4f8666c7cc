"""The menu: what someone sees when they say hi with no conversation open."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from dialogs.engine.dialog import Ctx, Dialog, End, Next, Start
from dialogs.flows.common import ask_choice, labelled
from storage.people import first_name

menu = Dialog("menu", version=1, first="choose", title="menu.title")

ENTRIES = ("reflection", "experiment", "checkin", "plan", "profile", "field", "privacy", "settings")
AI_ENTRIES = ("summary",)
"""Shown only with AI assistance on (the words work either way)."""


def greeting(ctx: Ctx) -> str:
    """Good morning, afternoon or evening: for the hour it is where the person is."""
    return ctx.content.greeting(ctx.lang, ctx.now.astimezone(ZoneInfo(ctx.person.timezone)).hour)


@menu.step("choose")
def choose(ctx: Ctx) -> Next:
    if not ctx.answered:
        entries = (*ENTRIES, *AI_ENTRIES) if ctx.assistant.ai else ENTRIES
        options = labelled(ctx, "menu.options", (*entries, "nothing"))
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
    return Start(str(ctx.answer))
