"""HR reading a learning-needs pulse's results in chat: said as "pulse results" /
"peilingresultaten", or picked as a pulse's "Results" in HR's campaigns conversation
(``hr_chat.py``). The same figures under the same ``<K`` rule as ``regie report pulse``
(``pulse_report.build``), and the look at the answers audited as this person's. Only people
with the hr or admin role get in."""

from __future__ import annotations

from dialogs.campaigns.pulse_report import build, results_text
from dialogs.campaigns.spec import from_stored
from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next
from dialogs.flows.common import ask_choice
from storage import campaigns as stored
from storage import pulse as answers
from storage.models import Campaign, Role
from storage.privacy import Reader

pulse_results = Dialog("pulse_results", version=1, first="pick", title="pulse_report.title")
MAX_LISTED = 20


def _options(ctx: Ctx) -> list[tuple[str, str]]:
    """The pulses, newest first, each with whether it has closed (only then are there
    results) or until when it takes answers."""
    options: list[tuple[str, str]] = []
    for campaign in stored.listing(ctx.db):
        spec = from_stored(campaign.spec)
        if spec.pulse is None or campaign.id is None:
            continue
        name = spec.text(spec.name, ctx.lang)
        if answers.is_closed(ctx.db, campaign.id):
            label = ctx.t("pulse_report.item_closed", name=name)
        else:
            closes = ctx.content.date(ctx.lang, spec.pulse.closes)
            label = ctx.t("pulse_report.item_open", name=name, closes=closes)
        options.append((str(campaign.id), label))
    return options[:MAX_LISTED]


@pulse_results.step("pick")
def pick(ctx: Ctx) -> Next:
    if ctx.person.role not in (Role.HR, Role.ADMIN):
        ctx.say("pulse_report.not_allowed")
        return End()
    if "campaign_id" in ctx.values:  # a pulse picked in the campaigns conversation
        return Goto("show")
    if not ctx.answered:
        options = _options(ctx)
        if not options:
            ctx.say("pulse_report.none")
            return End()
        options.append(("done", ctx.t("campaigns.hr.nothing")))
        return ask_choice(ctx, "pulse_report.pick", options)
    if ctx.answer == "done":
        return End()
    ctx.values["campaign_id"] = int(str(ctx.answer))
    return Goto("show")


@pulse_results.step("show")
def show(ctx: Ctx) -> Next:
    campaign = ctx.db.get(Campaign, int(ctx.values.pop("campaign_id")))
    if campaign is None or from_stored(campaign.spec).pulse is None:
        ctx.say("pulse_report.none")
        return End()
    results = build(
        ctx.db,
        campaign,
        min_group=ctx.settings.min_group_size,
        reader=Reader.of(ctx.person),
        now=ctx.now,
    )
    ctx.say_text(results_text(ctx.content, ctx.lang, results))
    return End()
