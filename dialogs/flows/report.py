"""HR asking for the participation report in chat: counts only, small groups suppressed.
Only people with the hr or admin role may see it."""

from __future__ import annotations

from dialogs.engine.dialog import Ctx, Dialog, End, Next
from dialogs.engine.metrics import metrics
from storage.models import Role
from storage.reports import participation

report = Dialog("report", version=1, first="show", title="report.title")


@report.step("show")
def show(ctx: Ctx) -> Next:
    if ctx.person.role not in (Role.HR, Role.ADMIN):
        ctx.say("report.not_allowed")
        return End()
    start = ctx.today.replace(month=1, day=1)
    result = participation(
        ctx.db,
        start=start,
        end=ctx.today,
        min_group=ctx.settings.min_group_size,
        reader_id=ctx.person.id,
    )
    named = metrics(ctx.content, ctx.lang, "participation", [row.metric for row in result.rows])
    names = {m.key: m.name for m in named}
    lines = [
        f"• {names[row.metric]}{f' ({row.period})' if row.period else ''}: {result.cell(row)}"
        for row in result.rows
    ]
    heading = ctx.t("report.heading", start=ctx.content.date(ctx.lang, start), k=result.k)
    meaning = [ctx.t("metrics.heading") + ":"] + [f"• {m.name}: {m.definition}" for m in named]
    ctx.say_text("\n".join([heading, *lines, "", *meaning]))
    return End()
