"""The skills profile: skills and talents someone wants to be known for, and what they want to
learn next. Entries may be typed several at once, separated by commas."""

from __future__ import annotations

from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Start
from dialogs.engine.text import shorten
from dialogs.flows.common import ask_choice, ask_text, labelled
from storage.items import own, owned_by, profile_entries
from storage.learning import learning_record
from storage.models import ProfileEntry, ProfileKind

profile = Dialog("profile", version=1, first="overview", title="profile.title")

MAX_ENTRIES = 30


@profile.step("overview")
def overview(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    entries = profile_entries(ctx.db, ctx.person.id)
    if not ctx.answered:
        lines = []
        for kind in ProfileKind:
            texts = [e.text for e in entries if e.kind == kind]
            shown = ", ".join(texts) if texts else ctx.t("profile.nothing_yet")
            lines.append(f"{ctx.t(f'profile.headings.{kind.value}')}: {shown}")
        learned = len(learning_record(ctx.db, ctx.person.id))
        lines.append(ctx.t("learning.in_profile", count=learned))
        ctx.say_text(ctx.t("profile.intro") + "\n" + "\n".join(lines))
        actions = ["skill", "talent", "learn", "learning"]
        actions += (["remove"] if entries else []) + ["done"]
        return ask_choice(ctx, "profile.what_now", labelled(ctx, "profile.actions", actions))
    if ctx.answer == "done":
        ctx.say("profile.bye")
        return End()
    if ctx.answer == "remove":
        return Goto("remove")
    if ctx.answer == "learning":
        return Start("learning")
    if len(entries) >= MAX_ENTRIES:
        ctx.say("profile.full", limit=MAX_ENTRIES)
        return Goto("overview")
    ctx.values["kind"] = ctx.answer
    return Goto("add")


@profile.step("add")
def add(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, f"profile.ask.{ctx.values['kind']}", max_chars=500)
    texts = [shorten(part, 120) for part in str(ctx.answer).replace("\n", ",").split(",")]
    added = [t for t in texts if t]
    for text in added:
        ctx.db.add(
            ProfileEntry(**owned_by(ctx.person, now=ctx.now), kind=ctx.values["kind"], text=text)
        )
    ctx.say("profile.added", count=len(added))
    return Goto("overview")


@profile.step("remove")
def remove(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        options = [
            (str(e.id), shorten(f"{ctx.t(f'profile.headings.{e.kind}')}: {e.text}", 60))
            for e in profile_entries(ctx.db, ctx.person.id)
        ]
        return ask_choice(ctx, "profile.which", options)
    entry = own(ctx.db, ProfileEntry, ctx.person.id, int(ctx.answer))
    if entry is not None:
        ctx.db.delete(entry)
        ctx.say("profile.removed", text=entry.text)
    return Goto("overview")
