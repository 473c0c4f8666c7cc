"""HR running campaigns from chat: status, pause, resume, cancel, launching a campaign file
that is ready in the campaigns folder (exactly as previewed; a large or out-of-scope launch
waits for a second person: ``guardrails.py``), and approving someone else's launch. Only people
with the hr or admin role get in; what they see are figures, and workshop sign-ups by name only
for the campaign's owner."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dialogs.campaigns import guardrails
from dialogs.campaigns.launch import (
    CampaignError,
    LaunchPlan,
    cancel,
    first_moment,
    pause,
    plan_launch,
    resume,
)
from dialogs.campaigns.report import build, sign_ups, sign_ups_text, status_text
from dialogs.campaigns.spec import CampaignFileError, CampaignSpec, from_stored, load_file
from dialogs.campaigns.timing import late_lines, missed_lines
from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Start
from dialogs.flows.common import ask_choice, ask_confirm, labelled
from storage import campaign_guardrails as guard
from storage import campaigns as stored
from storage.models import Campaign, CampaignState, Person, Role
from storage.people import first_name
from storage.privacy import Reader

campaigns = Dialog("campaigns", version=2, first="pick", title="campaigns.hr.title")
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
    button, _, launch_id = str(ctx.values.pop("arg", "")).partition(":")
    if button in ("review", "decline") and launch_id.isdigit():  # an approval request's button
        ctx.values["launch_id"] = int(launch_id)
        return Goto(button)
    if not ctx.answered:
        options: list[tuple[str, str]] = _waiting_for_me(ctx)
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
    if kind == "a":
        ctx.values["launch_id"] = int(ref)
        return Goto("review")
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
        if report.spec.pulse is not None:
            actions.append("results")
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
    if answer == "results":  # a pulse's answers: dialogs/campaigns/pulse_results.py
        return Start("pulse_results", {"campaign_id": campaign.id})
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
    """Preview a campaign file, then launch exactly what was previewed: the file's data is
    kept in the conversation, so a file changed on disk meanwhile changes nothing (the author
    hears so). Over the size limit or outside the author's scope it waits for a second person."""
    path = Path(ctx.settings.campaigns_dir) / Path(str(ctx.values["file"])).name
    if ctx.answered:
        return _launch_previewed(ctx, path)
    try:
        spec = load_file(path)
        plan = plan_launch(ctx.db, spec, now=ctx.now)
        guardrails.owner_of(ctx.db, plan)
        why = guardrails.reasons(
            ctx.db, plan, ctx.person, approval_over=ctx.settings.campaign_approval_over
        )
    except CampaignFileError as error:
        shown = "\n".join(f"• {p}" for p in error.problems[:MAX_PROBLEMS_SHOWN])
        ctx.say("campaigns.hr.problems", problems=shown)
        return End()
    except CampaignError as error:
        ctx.say("campaigns.hr.problems", problems=f"• {error}")
        return End()
    name = spec.text(spec.name, ctx.lang)
    if plan.unchanged:
        ctx.say("campaigns.hr.unchanged", name=name)
        return End()
    ctx.values["spec"], ctx.values["hash"] = spec.raw, spec.hash
    _say_unreachable(ctx, plan)
    _say_timing(ctx, plan)
    if why:
        ctx.say_text(_preview(ctx, plan, name))
        return ask_confirm(
            ctx,
            "campaigns.guardrails.ask_approval",
            why=guardrails.why_text(ctx.content, ctx.lang, why),
            count=ctx.settings.campaign_approval_over,
        )
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


def _launch_previewed(ctx: Ctx, path: Path) -> Next:
    previewed = from_stored(ctx.values.pop("spec"))
    if not ctx.answer:
        ctx.say("campaigns.hr.not_launched")
        return End()
    if previewed.hash != ctx.values.get("hash"):  # cannot happen: the data is kept as it was
        ctx.say("campaigns.hr.problems", problems="• the previewed campaign was altered")
        return End()
    try:
        plan = plan_launch(ctx.db, previewed, now=ctx.now)
        done = guardrails.submit(
            ctx.db,
            ctx.content,
            plan,
            author=ctx.person,
            actor=Reader.of(ctx.person),
            now=ctx.now,
            policy=ctx.settings.policy,
            approval_over=ctx.settings.campaign_approval_over,
        )
    except CampaignError as error:
        ctx.say("campaigns.hr.problems", problems=f"• {error}")
        return End()
    if _changed_on_disk(path, previewed):
        ctx.say("campaigns.guardrails.file_changed", file=path.name)
    if done.waiting and done.asked:
        ctx.say("campaigns.guardrails.asked", count=done.asked)
    elif done.waiting:
        ctx.say("campaigns.guardrails.asked_nobody")
    else:
        _say_launched(ctx, plan)
    return End()


def _changed_on_disk(path: Path, previewed: CampaignSpec) -> bool:
    try:
        return load_file(path).hash != previewed.hash
    except CampaignFileError:
        return True


def _say_launched(ctx: Ctx, plan: LaunchPlan) -> None:
    """What a launch did; when nothing is queued yet, when the first messages go out."""
    if plan.is_edit:
        ctx.say("campaigns.hr.edited", updated=plan.updated_messages, dropped=plan.dropped_messages)
        return
    first = first_moment(plan, ctx.settings.policy, now=ctx.now) if not plan.queued else None
    if first is None:
        ctx.say("campaigns.hr.launched", queued=plan.queued)
        return
    ctx.say("campaigns.guardrails.launched_later", when=_when(ctx, first))


def _when(ctx: Ctx, at: datetime) -> str:
    """A moment as the person reads it, in their own time zone: Monday 7 Dec 2026, 09:30."""
    local = at.astimezone(ZoneInfo(ctx.person.timezone))
    day = ctx.content.date(ctx.lang, local.date())
    if local.weekday() < 5:
        day = f"{ctx.t(f'settings.weekdays.d{local.weekday()}')} {day}"
    return f"{day}, {local:%H:%M}"


def _say_unreachable(ctx: Ctx, plan: LaunchPlan) -> None:
    """Who the campaign cannot reach in chat, and why: the author sees them by name."""
    found = ctx.settings.unreachable(ctx.db, plan.recipients)
    if not found:
        return
    names = [f"{p.name} ({found[p.id]})" for p in plan.recipients if p.id in found]
    shown = "\n".join(f"• {name}" for name in names[:MAX_PROBLEMS_SHOWN])
    if len(names) > MAX_PROBLEMS_SHOWN:
        shown += "\n" + ctx.t("campaigns.guardrails.more", count=len(names) - MAX_PROBLEMS_SHOWN)
    ctx.say("campaigns.guardrails.unreachable", count=len(names), who=shown)


def _say_timing(ctx: Ctx, plan: LaunchPlan) -> None:
    """The same timing notes as ``regie campaign launch``: who, per time zone, would get a
    message about a workshop after it starts (skipped) or earlier than planned, and which
    steps recent starters joined too late for."""
    policy = ctx.settings.policy
    late = late_lines(
        plan.spec, plan.recipients, policy=policy, now=ctx.now, content=ctx.content, lang=ctx.lang
    )
    missed = missed_lines(
        plan.spec, plan.recipients, policy=policy, now=ctx.now, content=ctx.content, lang=ctx.lang
    )
    if late:
        ctx.say("campaign_care.timing.late", lines="\n".join(f"• {line}" for line in late))
    if missed:
        ctx.say("campaign_care.timing.missed", lines="\n".join(f"• {line}" for line in missed))


def _preview(ctx: Ctx, plan: LaunchPlan, name: str) -> str:
    """The audience and every step's message, in the reader's language: what an approver
    sees (and the author, before asking)."""
    languages = ", ".join(f"{lang}: {n}" for lang, n in sorted(plan.by_language.items()))
    opted_out, paused = plan.choices(ctx.settings.min_group_size)
    lines = [
        ctx.t(
            "campaigns.guardrails.audience",
            name=name,
            count=plan.reaching,
            languages=languages or "-",
            opted_out=opted_out,
            paused=paused,
        )
    ]
    if plan.is_edit:
        steps = ", ".join(plan.changed_steps + plan.removed_steps) or "-"
        lines.append(ctx.t("campaigns.guardrails.edit", steps=steps))
    spec = plan.spec
    for step in spec.steps:
        lines.append(
            ctx.t(
                "campaigns.guardrails.step",
                step=step.id,
                day=step.day,
                time=step.time or ctx.settings.policy.time,
                message=spec.text(step.message, ctx.lang),
            )
        )
    lines.append(ctx.t("campaigns.guardrails.hash", hash=spec.hash[:12]))
    return "\n".join(lines)


def _waiting_for_me(ctx: Ctx) -> list[tuple[str, str]]:
    """Launches waiting for a second person that this person could approve."""
    options: list[tuple[str, str]] = []
    for record in guard.pending(ctx.db)[:10]:
        if record.requested_by_id == ctx.person.id:
            continue
        spec = from_stored(record.spec)
        asker = ctx.db.get(Person, record.requested_by_id) if record.requested_by_id else None
        label = ctx.t(
            "campaigns.guardrails.waiting_item",
            campaign=spec.text(spec.name, ctx.lang),
            count=record.audience,
            name=first_name(asker.name) if asker else "?",
        )
        options.append((f"a:{record.id}", label))
    return options


@campaigns.step("review")
def review(ctx: Ctx) -> Next:
    """A second person looks at a launch waiting for approval: the exact preview and its
    audience, then approve (it launches), decline, or leave it waiting."""
    launch_id = int(ctx.values["launch_id"])
    try:
        if not ctx.answered:
            record, plan = guardrails.pending_launch(ctx.db, launch_id, now=ctx.now)
            guardrails.may_decide(record, ctx.person)
            asker = ctx.db.get(Person, record.requested_by_id) if record.requested_by_id else None
            name = plan.spec.text(plan.spec.name, ctx.lang)
            ctx.say(
                "campaigns.guardrails.review",
                name=first_name(asker.name) if asker else "?",
                why=guardrails.why_text(ctx.content, ctx.lang, record.reasons),
            )
            ctx.say_text(_preview(ctx, plan, name))
            _say_unreachable(ctx, plan)
            _say_timing(ctx, plan)
            return ask_choice(
                ctx,
                "campaigns.guardrails.decide",
                labelled(ctx, "campaigns.guardrails.decisions", ["approve", "decline", "later"]),
            )
        if ctx.answer == "decline":
            return Goto("decline")
        if ctx.answer != "approve":
            ctx.say("campaigns.guardrails.left_waiting")
            return End()
        done = guardrails.approve(
            ctx.db,
            ctx.content,
            launch_id,
            approver=ctx.person,
            actor=Reader.of(ctx.person),
            now=ctx.now,
            policy=ctx.settings.policy,
        )
    except CampaignError as error:
        ctx.say("campaigns.hr.problems", problems=f"• {error}")
        return End()
    ctx.say("campaigns.guardrails.you_approved")
    _say_launched(ctx, done.plan)
    return End()


@campaigns.step("decline")
def decline(ctx: Ctx) -> Next:
    try:
        guardrails.decline(
            ctx.db,
            ctx.content,
            int(ctx.values["launch_id"]),
            by=ctx.person,
            actor=Reader.of(ctx.person),
            now=ctx.now,
        )
    except CampaignError as error:
        ctx.say("campaigns.hr.problems", problems=f"• {error}")
        return End()
    ctx.say("campaigns.guardrails.you_declined")
    return End()
