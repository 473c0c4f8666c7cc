"""Three new things a year: plan something you have never done, do it, learn from it.

Progress is n/3 experiments done in the calendar year. Dropping an experiment is fine and the
bot says so: trying tells you something too.
"""

from __future__ import annotations

from datetime import date

from dialogs.engine.dialog import Ctx, Dialog, End, Goto, Next, Retry, Start
from dialogs.engine.text import shorten
from dialogs.flows.ai_consent import add_ai_consent_step, ask_ai_consent, needs_ai_consent
from dialogs.flows.common import ask_choice, ask_date, ask_text, bullet_list, format_date, labelled
from dialogs.flows.sharing import LESSON, add_share_step, remember_saved
from storage.items import (
    done_in_year,
    experiments,
    experiments_of_year,
    open_experiments,
    own,
    owned_by,
    profile_entries,
    set_experiment_status,
)
from storage.models import Experiment, ExperimentStatus

YEARLY_GOAL = 3

experiment = Dialog("experiment", version=1, first="overview", title="experiment.title")
add_share_step(experiment, then="story_offer")
add_ai_consent_step(experiment)

SUGGESTED = "suggested:"
"""Choice values of ideas the assistant suggested (their texts wait in the dialog's values)."""


def progress(ctx: Ctx) -> str:
    assert ctx.person.id is not None
    done = len(done_in_year(ctx.db, ctx.person, ctx.today.year))
    return ctx.t("experiment.progress", done=done, goal=YEARLY_GOAL, year=ctx.today.year)


def describe(ctx: Ctx, item: Experiment) -> str:
    status = ctx.t(f"experiment.states.{item.status}")
    when = f", {format_date(ctx, item.planned_date)}" if item.planned_date else ""
    return f"{shorten(item.title, 80)} ({status}{when})"


def _selected(ctx: Ctx) -> Experiment | None:
    assert ctx.person.id is not None
    return own(ctx.db, Experiment, ctx.person.id, int(ctx.values["experiment_id"]))


@experiment.step("overview")
def overview(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    mine = experiments_of_year(ctx.db, ctx.person, ctx.today.year)
    if not ctx.answered:
        if not mine:
            ctx.say("experiment.intro", goal=YEARLY_GOAL)
            return Goto("new")
        ctx.say_text(progress(ctx) + "\n" + bullet_list([describe(ctx, e) for e in mine]))
        actions = ["new"]
        if any(e.status in (ExperimentStatus.PLANNED, ExperimentStatus.DOING) for e in mine):
            actions.append("update")
        if any(e.status == ExperimentStatus.DONE and not e.learned for e in mine):
            actions.append("reflect")
        return ask_choice(
            ctx, "experiment.what_now", labelled(ctx, "experiment.actions", [*actions, "nothing"])
        )
    if ctx.answer == "nothing":
        ctx.say("experiment.bye")
        return End()
    return Goto({"new": "new", "update": "choose_open", "reflect": "choose_done"}[ctx.answer])


@experiment.step("new")
def new(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_choice(
            ctx, "experiment.source", labelled(ctx, "experiment.sources", ("own", "list"))
        )
    return Goto("title" if ctx.answer == "own" else "pick_idea")


@experiment.step("pick_idea")
def pick_idea(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        if needs_ai_consent(ctx):
            return ask_ai_consent(ctx, then="pick_idea")
        ideas = ctx.assistant.experiment_ideas(
            ctx.db,
            ctx.person,
            profile=profile_entries(ctx.db, ctx.person.id),
            experiments=experiments(ctx.db, ctx.person.id),
        )
        suggested = [i.text for i in ideas if i.idea_id is None]
        ctx.values["suggested"] = suggested
        options = [(f"{SUGGESTED}{n}", text) for n, text in enumerate(suggested)]
        options += [(i.idea_id, i.text) for i in ideas if i.idea_id is not None]
        options.append(("own", ctx.t("experiment.own_after_all")))
        return ask_choice(ctx, "experiment.pick_idea", options)
    answer = str(ctx.answer)
    if answer.startswith(SUGGESTED):
        suggested = ctx.values.get("suggested", [])
        n = int(answer.removeprefix(SUGGESTED))
        if n >= len(suggested):
            return Goto("title")
        ctx.values["idea_id"] = None
        ctx.values["title"] = str(suggested[n])
        return Goto("why")
    idea = ctx.content.idea(answer)
    if idea is None:
        return Goto("title")
    ctx.values["idea_id"] = idea.id
    ctx.values["title"] = idea.text[ctx.lang]
    return Goto("why")


@experiment.step("proposed")
def proposed(ctx: Ctx) -> Next:
    """Started from a campaign's "try it as an experiment" button, with a title to propose."""
    if not ctx.answered:
        options = labelled(ctx, "experiment.proposed_options", ("yes", "own", "later"))
        return ask_choice(
            ctx, "experiment.proposed", options, title=shorten(ctx.values["title"], 200)
        )
    if ctx.answer == "later":
        ctx.say("experiment.bye")
        return End()
    return Goto("why" if ctx.answer == "yes" else "title")


@experiment.step("title")
def title(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, "experiment.ask_title", max_chars=300)
    ctx.values["title"] = str(ctx.answer)
    return Goto("why")


@experiment.step("why")
def why(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, "experiment.ask_why", skippable=True, title=ctx.values["title"])
    ctx.values["why"] = ctx.answer or ""
    return Goto("when")


@experiment.step("when")
def when(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_date(ctx, "experiment.ask_when", skippable=True)
    planned = date.fromisoformat(ctx.answer) if ctx.answer else None
    if planned is not None and planned < ctx.today:
        return Retry(ctx.t("experiment.date_in_past"))
    item = Experiment(
        **owned_by(ctx.person, now=ctx.now),
        title=ctx.values["title"],
        idea_id=ctx.values.get("idea_id"),
        why=ctx.values.get("why", ""),
        planned_date=planned,
        updated_at=ctx.now,
        campaign_id=ctx.values.get("campaign_id"),
    )
    ctx.db.add(item)
    remember_saved(ctx, item)
    key = "experiment.saved_with_date" if planned else "experiment.saved"
    ctx.say(key, title=item.title, date=format_date(ctx, planned))
    ctx.say_text(progress(ctx))
    return Goto("share")


@experiment.step("choose_open")
def choose_open(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        options = [
            (str(e.id), shorten(e.title, 60)) for e in open_experiments(ctx.db, ctx.person.id)
        ]
        return ask_choice(ctx, "experiment.which", options)
    ctx.values["experiment_id"] = int(ctx.answer)
    return Goto("status")


@experiment.step("status")
def status(ctx: Ctx) -> Next:
    item = _selected(ctx)
    if item is None:
        ctx.say("experiment.gone")
        return End()
    if not ctx.answered:
        states = ("doing", "done", "dropped", "planned")
        return ask_choice(
            ctx,
            "experiment.ask_status",
            labelled(ctx, "experiment.set_state", states),
            title=item.title,
        )
    set_experiment_status(item, str(ctx.answer), now=ctx.now)
    ctx.db.add(item)
    if item.status == ExperimentStatus.DONE:
        ctx.say("experiment.well_done")
        return Goto("learned")
    ctx.say(f"experiment.status_set.{item.status}")
    return End()


@experiment.step("choose_done")
def choose_done(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        options = [
            (str(e.id), shorten(e.title, 60))
            for e in experiments(ctx.db, ctx.person.id)
            if e.status == ExperimentStatus.DONE and not e.learned
        ]
        return ask_choice(ctx, "experiment.which", options)
    ctx.values["experiment_id"] = int(ctx.answer)
    return Goto("learned")


@experiment.step("learned")
def learned(ctx: Ctx) -> Next:
    item = _selected(ctx)
    if item is None:
        ctx.say("experiment.gone")
        return End()
    if not ctx.answered:
        return ask_text(ctx, "experiment.ask_learned", long=True, title=item.title)
    item.learned = str(ctx.answer)
    item.updated_at = ctx.now
    ctx.db.add(item)
    return Goto("keep")


@experiment.step("keep")
def keep(ctx: Ctx) -> Next:
    item = _selected(ctx)
    if item is None:
        ctx.say("experiment.gone")
        return End()
    if not ctx.answered:
        return ask_text(ctx, "experiment.ask_keep", skippable=True, long=True)
    item.keep_doing = ctx.answer
    item.updated_at = ctx.now
    ctx.db.add(item)
    remember_saved(ctx, item, part=LESSON)
    ctx.values["story_offer"] = item.id
    ctx.say("experiment.reflected")
    ctx.say_text(progress(ctx))
    return Goto("share")


@experiment.step("story_offer")
def story_offer(ctx: Ctx) -> Next:
    """After a reflection, once: share it as a story? (``dialogs/flows/stories.py``)"""
    experiment_id = ctx.values.pop("story_offer", None)
    if experiment_id is None:
        return End()
    return Start("story", {"experiment_id": int(experiment_id)})
