"""A manager asking for their digest in chat ("team" / "mijn team"), at any time."""

from __future__ import annotations

from dialogs.engine.dialog import Ctx, Dialog, End, Next
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
    return End()
