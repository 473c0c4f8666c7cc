"""A check-in of under a minute: energy on 1–5, how the current experiment is going, one next
step. Low energy gets a kind word, never advice nobody asked for."""

from __future__ import annotations

from dialogs.engine.dialog import Ctx, Dialog, Goto, Next
from dialogs.flows.common import ask_choice, ask_scale, ask_text, labelled
from dialogs.flows.sharing import add_share_step, remember_saved
from storage.items import open_experiments, own, owned_by, set_experiment_status
from storage.models import CheckIn, Experiment, ExperimentStatus

checkin = Dialog("checkin", version=1, first="energy", title="checkin.title")
add_share_step(checkin, then=None)


@checkin.step("energy")
def energy(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_scale(
            ctx, "checkin.energy", low_label="checkin.energy_low", high_label="checkin.energy_high"
        )
    ctx.values["energy"] = int(ctx.answer)
    ctx.say("checkin.energy_low_reply" if ctx.answer <= 2 else "checkin.energy_reply")
    return Goto("experiment")


@checkin.step("experiment")
def experiment_state(ctx: Ctx) -> Next:
    assert ctx.person.id is not None
    if not ctx.answered:
        current = open_experiments(ctx.db, ctx.person.id)
        if not current:
            return Goto("next_step")
        item = current[-1]
        ctx.values["experiment_id"] = item.id
        states = ("planned", "doing", "done", "dropped")
        options = labelled(ctx, "checkin.experiment_states", states)
        return ask_choice(ctx, "checkin.experiment", options, title=item.title)
    found = own(ctx.db, Experiment, ctx.person.id, int(ctx.values["experiment_id"]))
    if found is not None and found.status != ctx.answer:
        set_experiment_status(found, str(ctx.answer), now=ctx.now)
        ctx.db.add(found)
    ctx.values["experiment_status"] = ctx.answer
    if ctx.answer == ExperimentStatus.DONE:
        ctx.say("checkin.experiment_done")
    elif ctx.answer == ExperimentStatus.DROPPED:
        ctx.say("checkin.experiment_dropped")
    return Goto("next_step")


@checkin.step("next_step")
def next_step(ctx: Ctx) -> Next:
    if not ctx.answered:
        return ask_text(ctx, "checkin.next_step", skippable=True, max_chars=500)
    check_in = CheckIn(
        **owned_by(ctx.person, now=ctx.now),
        energy=ctx.values["energy"],
        experiment_id=ctx.values.get("experiment_id"),
        experiment_status=ctx.values.get("experiment_status"),
        next_step=ctx.answer or "",
    )
    ctx.db.add(check_in)
    remember_saved(ctx, check_in)
    ctx.say("checkin.thanks")
    if ctx.values.get("experiment_status") == ExperimentStatus.DONE:
        ctx.say("checkin.reflect_hint")
    return Goto("share")
