"""HR running campaigns from chat: status, pause, resume, cancel, and launching a campaign file
that is ready in the campaigns folder. Only people with the hr or admin role get in; what they
see are figures, and workshop sign-ups by name only for the campaign's owner."""

from __future__ import annotations

from pathlib import Path

from dialogs.campaigns.launch import CampaignError, cancel, launch, pause, plan_launch, resume
from dialogs.campaigns.report import build, sign_ups, sign_ups_text, status_text
from dialogs.campaigns.spec import CampaignFileError, load_file
from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next
from dialogs.flows.common import ask_choice, ask_confirm, labelled
from storage import campaigns as stored
from storage.models import Campaign, CampaignState, Role
from storage.people import by_email

campaigns = Dialog("campaigns", version=1, first="pick", title="campaigns.hr.title")
MAX_PROBLEMS_SHOWN = 8


def _files(ctx: Ctx) -> list[Path]:
    folder = Path(ctx.settings.campaigns_dir)
    if not folder.is_dir():
        return []
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])[:20]


@campaigns.step("pick")
def pick(ctx: Ctx) -> Next:
    if ctx.person.role not in (Role.HR, Role.ADMIN):
        ctx.say("campaigns.hr.not_allowed")
        return End()
    if not ctx.answered:
        options: list[tuple[str, str]] = []
        for campaign in stored.listing(ctx.db)[:20]:
            report = build(ctx.db, campaign, min_group=ctx.settings.min_group_size, now=ctx.now)
            state = ctx.t(f"campaigns.hr.states.{campaign.state}")
            label = ctx.t(
                "campaigns.hr.item",
                name=campaign.name,
                state=state,
                sent=report.figures.reached,
                targeted=report.figures.targeted,
            )
            options.append((f"c:{campaign.id}", label))
        for path in _files(ctx):
            options.append(
                (f"f:{path.name}", ctx.t("campaigns.hr.file", name=path.stem, file=path.name))
            )
        if not options:
            ctx.say("campaigns.hr.none", folder=ctx.settings.campaigns_dir)
            return End()
        options.append(("done", ctx.t("campaigns.hr.nothing")))
        return ask_choice(ctx, "campaigns.hr.pick", options)
    if ctx.answer == "done":
        return End()
    kind, _, ref = str(ctx.answer).partition(":")
    if kind == "f":
        ctx.values["file"] = ref
        return Goto("file")
    ctx.values["campaign_id"] = int(ref)
    return Goto("show")


def _campaign(ctx: Ctx) -> Campaign | None:
    return ctx.db.get(Campaign, int(ctx.values["campaign_id"]))


@campaigns.step("show")
def show(ctx: Ctx) -> Next:
    campaign = _campaign(ctx)
    if campaign is None:
        return Goto("pick")
    if not ctx.answered:
        report = build(
            ctx.db, campaign, min_group=ctx.settings.min_group_size, now=ctx.now, reader=ctx.person
        )
        ctx.say_text(status_text(ctx.content, ctx.lang, report))
        actions: list[str] = []
        if campaign.state == CampaignState.RUNNING:
            actions += ["pause", "cancel"]
        elif campaign.state == CampaignState.PAUSED:
            actions += ["resume", "cancel"]
        if report.spec.workshops and campaign.owner_id == ctx.person.id:
            actions.append("rsvps")
        actions += ["back", "done"]
        return ask_choice(
            ctx, "campaigns.hr.what_now", labelled(ctx, "campaigns.hr.actions", actions)
        )
    answer = str(ctx.answer)
    try:
        if answer == "pause":
            ctx.say("campaigns.hr.paused", n=pause(ctx.db, campaign, now=ctx.now))
            return End()
        if answer == "resume":
            held = resume(ctx.db, campaign, now=ctx.now, policy=ctx.settings.policy)
            ctx.say("campaigns.hr.resumed", n=held)
            return End()
    except CampaignError as error:
        ctx.say_text(str(error))
        return End()
    if answer == "cancel":
        return Goto("cancel")
    if answer == "rsvps":
        lists = sign_ups(ctx.db, campaign, ctx.person, now=ctx.now)
        if lists is None:
            ctx.say("campaigns.hr.rsvps_owner_only")
        else:
            ctx.say_text(
                sign_ups_text(
                    ctx.content,
                    ctx.lang,
                    build(
                        ctx.db, campaign, min_group=ctx.settings.min_group_size, now=ctx.now
                    ).spec,
                    lists,
                )
            )
        return End()
    if answer == "back":
        return Goto("pick")
    return End()


@campaigns.step("cancel")
def confirm_cancel(ctx: Ctx) -> Next:
    campaign = _campaign(ctx)
    if campaign is None:
        return Goto("pick")
    if not ctx.answered:
        return ask_confirm(ctx, "campaigns.hr.cancel_confirm", name=campaign.name)
    if ctx.answer:
        ctx.say("campaigns.hr.cancelled", n=cancel(ctx.db, campaign, now=ctx.now))
    else:
        ctx.say("campaigns.hr.kept")
    return End()


@campaigns.step("file")
def launch_file(ctx: Ctx) -> Next:
    path = Path(ctx.settings.campaigns_dir) / Path(str(ctx.values["file"])).name
    try:
        spec = load_file(path)
        plan = plan_launch(ctx.db, spec, now=ctx.now)
    except CampaignFileError as error:
        shown = "\n".join(f"• {p}" for p in error.problems[:MAX_PROBLEMS_SHOWN])
        ctx.say("campaigns.hr.problems", problems=shown)
        return End()
    except CampaignError as error:
        ctx.say("campaigns.hr.problems", problems=f"• {error}")
        return End()
    owner = by_email(ctx.db, spec.owner)
    if owner is None:
        ctx.say("campaigns.hr.problems", problems=f"• owner: nobody with e-mail {spec.owner}")
        return End()
    name = spec.text(spec.name, ctx.lang)
    if plan.unchanged:
        ctx.say("campaigns.hr.unchanged", name=name)
        return End()
    if not ctx.answered:
        if plan.is_edit:
            steps = ", ".join(plan.changed_steps + plan.removed_steps) or "-"
            return ask_confirm(ctx, "campaigns.hr.edit_preview", name=name, steps=steps)
        languages = ", ".join(f"{lang}: {n}" for lang, n in sorted(plan.by_language.items()))
        opted_out, paused = plan.choices(ctx.settings.min_group_size)
        return ask_confirm(
            ctx,
            "campaigns.hr.preview",
            name=name,
            people=plan.reaching,
            languages=languages or "-",
            opted_out=opted_out,
            paused=paused,
        )
    if not ctx.answer:
        ctx.say("campaigns.hr.not_launched")
        return End()
    launch(ctx.db, ctx.content, plan, owner=owner, now=ctx.now, policy=ctx.settings.policy)
    if plan.is_edit:
        ctx.say("campaigns.hr.edited", updated=plan.updated_messages, dropped=plan.dropped_messages)
    else:
        ctx.say("campaigns.hr.launched", queued=plan.queued)
    return End()
