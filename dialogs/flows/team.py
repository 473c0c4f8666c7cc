"""A manager asking for their digest in chat ("team" / "mijn team"), at any time; after a digest
with news, one tap to plan or prepare a growth conversation with someone in the team
(:mod:`dialogs.flows.growth`; "team growth" opens it at any time)."""

from __future__ import annotations

from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Start
from dialogs.flows.common import ask_choice, labelled
from dialogs.nudges.digest import as_replies, compose
from storage.people import direct_reports

team = Dialog("team", version=1, first="digest", title="digest.title")


@team.step("digest")
def digest(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not direct_reports(ctx.db, ctx.person.id):
        ctx.say("digest.no_reports")
        return End()
    composed = compose(
        ctx.db,
        ctx.content,
        ctx.person,
        now=ctx.now,
        min_group=ctx.settings.min_group_size,
        assistant=ctx.assistant,
    )
    ctx.replies.extend(as_replies(ctx.content, composed))
    return End() if composed.empty else Goto("growth")  # nothing new stays one line


@team.step("growth")
def growth(ctx: Ctx) -> Next:
    if not ctx.answered:
        options = labelled(ctx, "growth.team_offer", ("plan", "done"))
        return ask_choice(ctx, "growth.ask_team_offer", options)
    if ctx.answer == "plan":
        return Start("growth", {"side": "manager"})
    return End()
